// POST /signin/confirm/go: the confirm page's button. Hands the emailed link's parameters to next-auth's callback,
// which checks and spends the one-time token, starts the session and redirects on.
import { env } from "@/server/env";
import { callbackPath } from "@/server/auth/sign-in-link";

export const dynamic = "force-dynamic";

const back = (error: string) => new Response(null, { status: 303, headers: { location: `/signin?error=${error}` } });

export async function POST(req: Request) {
  // A form on another site must not be able to sign a visitor in to someone else's account with a link it
  // holds (login CSRF): browsers name the page that posted in Origin, and it must be ours.
  const origin = req.headers.get("origin");
  if (origin !== null && origin !== new URL(env().APP_URL).origin) {
    return Response.json(
      { error: { code: "FORBIDDEN", message: "Sign-in links can only be confirmed on this site." } },
      { status: 403 },
    );
  }
  let form: FormData;
  try {
    form = await req.formData();
  } catch {
    return back("Verification");
  }
  const path = callbackPath((name) => form.get(name));
  if (!path) return back("Verification");
  return new Response(null, { status: 303, headers: { location: path } });
}
