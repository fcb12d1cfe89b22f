import http from "node:http";
import { expect } from "vitest";
import { signInLinkIn } from "./browser";
import type { SmtpCatcher } from "./smtp-catcher";

/**
 * A client that keeps cookies like a browser would (enough of one for next-auth), without a browser.
 * `localAddress` makes it connect from another loopback address (any of 127.0.0.0/8), so a test can be
 * several clients the server tells apart by their connection, as it would real ones.
 */
export function browserless(baseUrl: string, opts: { localAddress?: string } = {}) {
  const jar = new Map<string, string>();
  const request = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const url = path.startsWith("http") ? path : baseUrl + path;
    const res = opts.localAddress
      ? await sendFrom(opts.localAddress, url, init.method ?? "GET", headers, init.body)
      : await fetch(url, { ...init, headers, redirect: "manual" });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === "" || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  return { baseUrl, jar, request };
}
export type Browserless = ReturnType<typeof browserless>;

/** One plain HTTP exchange from a chosen local address, answered as a fetch Response. */
async function sendFrom(localAddress: string, url: string, method: string, headers: Headers, body: RequestInit["body"]) {
  const payload = body === undefined || body === null ? undefined : Buffer.from(await new Response(body).arrayBuffer());
  if (payload && !headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded");
  return new Promise<Response>((resolve, reject) => {
    const req = http.request(url, { method, localAddress, headers: Object.fromEntries(headers) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of Array.isArray(value) ? value : [value ?? ""]) answer.append(name, v);
        }
        const status = res.statusCode!;
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: answer }));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** Asks for a sign-in link the way next-auth's client does (with its CSRF token); returns the raw answer. */
export async function askForLink(client: Browserless, email: string, callbackUrl?: string) {
  const csrf = await (await client.request("/api/auth/csrf")).json();
  const form = new URLSearchParams({ email, csrfToken: csrf.csrfToken, json: "true" });
  if (callbackUrl) form.set("callbackUrl", callbackUrl);
  return client.request("/api/auth/signin/email", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form,
  });
}

/** Asks for a sign-in link and returns the link from the email the catcher receives. */
export async function requestLink(client: Browserless, catcher: SmtpCatcher, email: string, callbackUrl?: string) {
  const before = catcher.messages.length;
  const res = await askForLink(client, email, callbackUrl);
  expect(res.status).toBe(200);
  const body = await res.json();
  const message = await catcher.waitFor(before + 1);
  const link = signInLinkIn(message.text);
  expect(link, message.text).toBeDefined();
  return { answer: body, message, link: link! };
}

/** The hidden fields of the confirm page's form, as a browser would post them. */
export function confirmForm(html: string): URLSearchParams {
  expect(html).toContain('action="/signin/confirm/go"');
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)) {
    form.set(m[1]!, m[2]!.replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">"));
  }
  return form;
}

/** Where an answer redirects to, as a URL on the app. */
export const locationOf = (baseUrl: string, res: Response) => {
  const loc = res.headers.get("location");
  return loc ? new URL(loc, baseUrl) : null;
};

/** Presses the confirm page's button: posts its form from our own origin, as the browser does. */
export const postConfirm = (client: Browserless, form: URLSearchParams, origin = client.baseUrl) =>
  client.request("/signin/confirm/go", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin },
    body: form,
  });

/**
 * Follows an emailed link as a person does: opens the confirm page, presses its button, and returns
 * next-auth's answer to the callback the button leads to.
 */
export async function followLink(client: Browserless, link: string) {
  const page = await client.request(link);
  expect(page.status).toBe(200);
  const go = await postConfirm(client, confirmForm(await page.text()));
  expect(go.status).toBe(303);
  expect(locationOf(client.baseUrl, go)!.pathname).toBe("/api/auth/callback/email");
  return client.request(locationOf(client.baseUrl, go)!.toString());
}

/** Signs `email` in through the emailed link and the confirm button; returns the signed-in client. */
export async function signIn(baseUrl: string, catcher: SmtpCatcher, email: string) {
  const client = browserless(baseUrl);
  const { link } = await requestLink(client, catcher, email);
  const callback = await followLink(client, link);
  expect(callback.status).toBe(302);
  return client;
}

/**
 * Signs in through an emailed link on an existing client (so the test keeps its cookie jar); returns the link's
 * token and the session cookie it set.
 */
export async function signInByEmail(client: Browserless, catcher: SmtpCatcher, email: string, callbackUrl: string) {
  const { link } = await requestLink(client, catcher, email, callbackUrl);
  expect((await followLink(client, link)).status).toBe(302);
  const cookie = client.jar.get("next-auth.session-token");
  expect(cookie).toBeTruthy();
  return { linkToken: new URL(link).searchParams.get("token")!, cookie: cookie! };
}
