import { expect } from "vitest";
import { signInLinkIn } from "./browser";
import type { SmtpCatcher } from "./smtp-catcher";

/**
 * Signing in over HTTP with no browser: next-auth's email flow, our confirm page, the outbox, the worker and a
 * real SMTP catcher (test/browser-signin.test.ts does the same in Chromium).
 */

/** A fetch that keeps cookies like a browser would (enough of one for next-auth). */
export function browserless(appUrl: string) {
  const jar = new Map<string, string>();
  const request = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(path.startsWith("http") ? path : appUrl + path, { ...init, headers, redirect: "manual" });
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
  return { appUrl, jar, request };
}

export type Browserless = ReturnType<typeof browserless>;

/** Where a redirect points, resolved against the app. */
export const location = (res: Response, appUrl: string) => {
  const loc = res.headers.get("location");
  return loc ? new URL(loc, appUrl) : null;
};

/** Asks for a sign-in link the way next-auth's client does; returns next-auth's answer. */
export async function askForLink(client: Browserless, email: string, callbackUrl?: string) {
  const csrf = await (await client.request("/api/auth/csrf")).json();
  const form = new URLSearchParams({ email, csrfToken: csrf.csrfToken, json: "true" });
  if (callbackUrl) form.set("callbackUrl", callbackUrl);
  const res = await client.request("/api/auth/signin/email", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form,
  });
  expect(res.status).toBe(200);
  return res.json();
}

/** Asks for a sign-in link and returns the link from the email. */
export async function requestLink(client: Browserless, catcher: SmtpCatcher, email: string, callbackUrl?: string) {
  const before = catcher.messages.length;
  const body = await askForLink(client, email, callbackUrl);
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

export const postConfirm = (client: Browserless, form: URLSearchParams, origin = client.appUrl) =>
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
  const callback = location(go, client.appUrl)!;
  expect(callback.pathname).toBe("/api/auth/callback/email");
  return client.request(callback.toString());
}

/** Signs in through an emailed link; returns the link's token and the session cookie it set. */
export async function signInByEmail(client: Browserless, catcher: SmtpCatcher, email: string, callbackUrl: string) {
  const { link } = await requestLink(client, catcher, email, callbackUrl);
  expect((await followLink(client, link)).status).toBe(302);
  const cookie = client.jar.get("next-auth.session-token");
  expect(cookie).toBeTruthy();
  return { linkToken: new URL(link).searchParams.get("token")!, cookie: cookie! };
}
