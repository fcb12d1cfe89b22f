// POST /signin/confirm/go: the confirm page's button. Hands the emailed link's parameters to next-auth's callback,
// which checks and spends the one-time token, starts the session and redirects on.
import { AUTH_MAX_BODY_BYTES } from "@/server/auth/limits";
import { confirmedCallback, confirmedCookie } from "@/server/auth/sign-in-link";
import { readBodyText } from "@/server/rest/body";
import { errorResponse, toErrorResponse } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

const redirect = (location: string, cookie?: string) => {
  const headers = new Headers({ location });
  if (cookie) headers.set("set-cookie", cookie);
  return new Response(null, { status: 303, headers });
};

export async function POST(req: Request) {
  let form: URLSearchParams;
  try {
    // The page's form is url-encoded; anything else has no parameters we know and is refused as incomplete.
    form = new URLSearchParams(await readBodyText(req, AUTH_MAX_BODY_BYTES));
  } catch (err) {
    return toErrorResponse(err);
  }
  const result = confirmedCallback(req.headers, (name) => form.get(name));
  // The cookie tells next-auth's route (app/api/auth/[...nextauth]/route.ts) that this button was pressed.
  if ("path" in result) return redirect(result.path, confirmedCookie(result.token));
  if (result.refused === "CROSS_SITE") {
    return errorResponse("FORBIDDEN", "Sign-in links can only be confirmed on this site.", 403);
  }
  return redirect("/signin?error=Verification");
}
