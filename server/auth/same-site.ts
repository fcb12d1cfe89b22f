import { env } from "@/server/env";

/**
 * Whether a request was sent by a page of another site. Browsers name the page that sent a POST in Origin
 * (the string "null" for sandboxed or opaque pages, which is not ours either), and current ones also say in
 * Sec-Fetch-Site where any request came from. A request with neither header comes from a non-browser client
 * (a script, a server-side caller): it cannot carry a visitor's cookies or plant cookies in a visitor's browser,
 * so it is not what this check is for and passes.
 */
export function fromAnotherSite(headers: Headers): boolean {
  const origin = headers.get("origin");
  if (origin !== null) return origin !== new URL(env().APP_URL).origin;
  const site = headers.get("sec-fetch-site");
  // "same-site" is a sibling host (another subdomain), which may belong to someone else.
  return site === "cross-site" || site === "same-site";
}
