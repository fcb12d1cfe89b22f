// POST /api/bench/echo: the benchmark's baseline (a), the framework's own ceiling: parse the JSON body and
// answer a constant. It answers 404 unless the server was started with BENCH_ROUTES=1 (`npm run bench` does).
export const dynamic = "force-dynamic";

const enabled = process.env.BENCH_ROUTES === "1";

export async function POST(req: Request) {
  if (!enabled) return Response.json({ error: { code: "NOT_FOUND", message: "Not found." } }, { status: 404 });
  await req.json();
  return Response.json({ valid: true, code: "VALID" });
}
