// GET /api/health: 200 once the app can serve (database reachable, migrations applied), 503 otherwise.
import { checkHealth } from "@/server/domain/health";

export const dynamic = "force-dynamic";

export async function GET() {
  const health = await checkHealth();
  return Response.json(health, { status: health.ok ? 200 : 503 });
}
