// After signing in without a particular page in mind: admins to the admin app, everyone else to the portal.
import { db } from "@/server/db/client";
import { sessionFromHeaders } from "@/server/auth/session";

export const dynamic = "force-dynamic";

export async function GET(req: Request) {
  const session = await sessionFromHeaders(db(), req.headers);
  const to = !session ? "/signin" : session.user.isAdmin ? "/admin" : "/portal";
  return new Response(null, { status: 303, headers: { location: to } });
}
