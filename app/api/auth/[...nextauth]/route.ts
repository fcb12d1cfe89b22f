// next-auth 4's handler (sign-in email, the emailed link's callback, sign-out, csrf, session), behind our own
// checks, which next-auth has no place for:
// - every body is read through the bounded reader before next-auth parses it;
// - POST /api/auth/signin/email is rate limited before next-auth creates a verification token;
// - the email callback runs only for a browser that came through the confirm button.
import NextAuth from "next-auth";
import { NextRequest } from "next/server";
import { signInErrorMessage } from "@/app/signin/callback-url";
import { authOptions } from "@/server/auth/options";
import { AUTH_MAX_BODY_BYTES } from "@/server/auth/limits";
import { allowSignInEmail } from "@/server/auth/sign-in-guard";
import { cameThroughConfirm, clearedConfirmedCookie, confirmCookieName, confirmPagePath } from "@/server/auth/sign-in-link";
import { AppError } from "@/server/domain/errors";
import { env } from "@/server/env";
import { bufferedRequest } from "@/server/rest/body";
import { toErrorResponse } from "@/server/rest/handler";
import { clientIp } from "@/server/rest/rate-limit";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ nextauth: string[] }> };

// Options are built per request from the process's settings, not at build time.
const nextAuth = (req: NextRequest, context: Context) => NextAuth(authOptions())(req, context);

async function handler(original: NextRequest, context: Context) {
  let req: NextRequest;
  let fields: Record<string, unknown> = {};
  try {
    req = new NextRequest(await bufferedRequest(original, AUTH_MAX_BODY_BYTES));
    if (req.method === "POST") fields = await fieldsOf(req);
  } catch (err) {
    return toErrorResponse(err);
  }
  const [action, provider] = (await context.params).nextauth;
  if (provider === "email" && action === "callback") return emailCallback(req, context);
  if (provider === "email" && action === "signin" && req.method === "POST") {
    const allowed = await allowSignInEmail(clientIp(req), typeof fields.email === "string" ? fields.email : null);
    if (!allowed.ok) return tooManySignIns(allowed.retryAfterSeconds, fields.json === "true");
  }
  return nextAuth(req, context);
}

/**
 * next-auth signs in on any GET or POST of its callback that carries a valid token. Without the confirm
 * button's cookie the browser goes to the confirm page with the same parameters instead: nothing is spent,
 * and a person who opened the raw callback still gets the button.
 */
async function emailCallback(req: NextRequest, context: Context) {
  const params = req.nextUrl.searchParams;
  if (!cameThroughConfirm(req.cookies.get(confirmCookieName())?.value, params.get("token"))) {
    return new Response(null, { status: 303, headers: { location: confirmPagePath((name) => params.get(name)) } });
  }
  const res = await nextAuth(req, context);
  res.headers.append("set-cookie", clearedConfirmedCookie());
  return res;
}

/**
 * The body's fields as next-auth parses them (url-encoded or JSON). A JSON body that does not parse is a 400
 * here: next-auth would throw on it, and that would be a 500.
 */
async function fieldsOf(req: Request): Promise<Record<string, unknown>> {
  const text = await req.clone().text();
  if (!req.headers.get("content-type")?.includes("application/json")) return Object.fromEntries(new URLSearchParams(text));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError("BAD_REQUEST", "The request body is not valid JSON.");
  }
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

/**
 * A refused sign-in, in the shape next-auth's client reads: `url` names the error, which the sign-in page
 * puts in words (app/signin/callback-url.ts). No token was created and no email is sent.
 */
function tooManySignIns(retryAfterSeconds: number, json: boolean) {
  const url = `${env().APP_URL}/signin?error=RateLimited`;
  const headers = { "retry-after": String(retryAfterSeconds) };
  if (!json) return new Response(null, { status: 303, headers: { ...headers, location: url } });
  return Response.json(
    { url, error: { code: "RATE_LIMITED", message: signInErrorMessage("RateLimited") } },
    { status: 429, headers },
  );
}

export { handler as GET, handler as POST };
