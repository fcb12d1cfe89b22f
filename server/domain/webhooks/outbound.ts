import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import ipaddr from "ipaddr.js";
import { env } from "@/server/env";

/**
 * The one way a webhook leaves the server: a POST to an operator's URL, guarded against being turned on the
 * server's own network (SSRF). The host is resolved here and every address it has must be public unicast: not
 * loopback, private (RFC 1918), carrier-grade NAT, link-local (cloud metadata at 169.254.169.254), unique-local
 * (fc00::/7), multicast, reserved, or an IPv4 address wrapped in IPv6 (::ffff:127.0.0.1 is unwrapped and judged as
 * IPv4; NAT64 and 6to4 forms are refused outright). The connection then goes to the very address that was judged
 * (a pinned lookup), so a DNS answer that changes between the check and the connect (rebinding) cannot slip a
 * private address in. Checked at every attempt, not only when the endpoint is saved. WEBHOOK_ALLOW_PRIVATE=1 lifts
 * the guard (tests, a receiver on the same host or LAN). Redirects are not followed: a 3xx is a failed attempt.
 */

export class WebhookAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookAddressError";
  }
}

/** Public unicast only; IPv4-mapped IPv6 is judged as the IPv4 address it carries. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return parsed.range() === "unicast";
}

type Resolved = { address: string; family: 4 | 6 };

/** The address to connect to, after checking every address the host has; throws WebhookAddressError. */
export async function resolveWebhookHost(hostname: string, allowPrivate = env().WEBHOOK_ALLOW_PRIVATE): Promise<Resolved> {
  const host = hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: Resolved[];
  if (net.isIP(host)) {
    addresses = [{ address: host, family: net.isIP(host) as 4 | 6 }];
  } else {
    try {
      addresses = (await dns.promises.lookup(host, { all: true, verbatim: true })) as Resolved[];
    } catch (err) {
      throw new WebhookAddressError(`The host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? "DNS error"}).`);
    }
    if (addresses.length === 0) throw new WebhookAddressError(`The host ${host} has no address.`);
  }
  if (!allowPrivate) {
    const inside = addresses.find((a) => !isPublicAddress(a.address));
    if (inside) {
      throw new WebhookAddressError(
        `${host} resolves to ${inside.address}, a private, loopback or reserved address; webhooks go to public addresses only (WEBHOOK_ALLOW_PRIVATE=1 allows others).`,
      );
    }
  }
  return addresses[0]!;
}

/** A URL an endpoint may have: http(s), a host, no credentials in it (they would sit in the database in clear). */
export function checkWebhookUrl(raw: string): URL | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "The URL is not valid.";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "The URL must start with https:// or http://.";
  if (!url.hostname) return "The URL needs a host.";
  if (url.username || url.password) return "Put no user name or password in the URL: verify the signature instead.";
  return url;
}

export type PostOutcome =
  | { ok: true; statusCode: number; latencyMs: number; excerpt: string }
  | { ok: false; statusCode: null; latencyMs: number; excerpt: null; error: string };

/** What is kept of an answer, and the most read of one (the rest is not waited for). */
export const EXCERPT_BYTES = 1024;
const MAX_READ_BYTES = 64 * 1024;
export const WEBHOOK_TIMEOUT_MS = 15_000;

// Keep-alive: a burst of events to one endpoint reuses its connections. A reused socket is connected to an
// address that was judged when it was opened.
const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 16 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 16 }),
};

/**
 * POSTs one signed body and reports what came back: the status, the latency and the first bytes of the answer
 * (reading stops after 64 KiB). Never throws: a refused address, a connection error or a timeout is an outcome.
 */
export async function postWebhook(rawUrl: string, headers: Record<string, string>, body: string): Promise<PostOutcome> {
  const started = performance.now();
  const failed = (error: string): PostOutcome => ({ ok: false, statusCode: null, latencyMs: Math.round(performance.now() - started), excerpt: null, error });
  const url = checkWebhookUrl(rawUrl);
  if (typeof url === "string") return failed(url);
  let target: Resolved;
  try {
    target = await resolveWebhookHost(url.hostname);
  } catch (err) {
    return failed(err instanceof Error ? err.message : String(err));
  }
  const mod = url.protocol === "https:" ? https : http;
  return new Promise<PostOutcome>((resolve) => {
    let settled = false;
    const finish = (o: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const req = mod.request(
      url,
      {
        method: "POST",
        agent: agents[url.protocol as "http:" | "https:"],
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          "user-agent": "Keystead-Webhooks/1",
        },
        // Pinned: connect to the address judged above, whatever DNS says now.
        lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
          if (opts?.all) cb(null, [{ address: target.address, family: target.family }]);
          else cb(null, target.address, target.family);
        }) as unknown as net.LookupFunction,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let read = 0;
        const done = () => {
          const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString("utf8");
          finish({ ok: true, statusCode: res.statusCode ?? 0, latencyMs: Math.round(performance.now() - started), excerpt });
        };
        res.on("data", (chunk: Buffer) => {
          if (read < EXCERPT_BYTES) chunks.push(chunk);
          read += chunk.length;
          if (read > MAX_READ_BYTES) {
            // Enough: an answer this long is not worth reading; the socket is not reused.
            done();
            res.destroy();
          }
        });
        res.on("end", done);
        res.on("error", done);
        res.on("aborted", done);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`));
    }, WEBHOOK_TIMEOUT_MS);
    req.on("error", (err: NodeJS.ErrnoException) => finish(failed(err.code ? `${err.code}: ${err.message}` : err.message)));
    req.end(body);
  });
}
