// POST /signin/confirm/go: the confirm page's button. Hands the emailed link's parameters to next-auth's callback,
// which checks and spends the one-time token, starts the session and redirects on.
import { confirmedCallback } from "@/server/auth/sign-in-link";

export const dynamic = "force-dynamic";

const redirect = (location: string) => new Response(null, { status: 303, headers: { location } });

export async function POST(req: Request) {
  const form = await req.formData().catch(() => null);
  const result = confirmedCallback(req.headers.get("origin"), (name) => form?.get(name));
  if ("path" in result) return redirect(result.path);
  if (result.refused === "CROSS_SITE") {
    return Response.json(
      { error: { code: "FORBIDDEN", message: "Sign-in links can only be confirmed on this site." } },
      { status: 403 },
    );
  }
  return redirect("/signin?error=Verification");
}
