import crypto from "node:crypto";
import { z } from "zod";
import { isAppError } from "@/server/domain/errors";
import { env } from "@/server/env";
import { limit, readJson, zodDetails, type RestResult } from "./handler";
import { clientIp } from "./rate-limit";

/**
 * The wrapper for the Key Commander compatibility routes (/api/v1/internal/* and report-website-error): the
 * storefront template's server calls them with `X-Internal-API-Key: INTERNAL_API_KEY`. Unset key: 404, as if
 * the routes did not exist. Wrong or missing key: 401, after the failed attempt was counted per address
 * (so guessing is slow) and compared in constant time. Errors answer in the template's own shape,
 * `{ detail }`, since that is what it shows its users; a RESET_COOLDOWN adds the reset times.
 */

type RouteContext = { params: Promise<Record<string, string | string[]>> };

const HEADER = "x-internal-api-key";
const MAX_BODY_BYTES = 64 * 1024;

const detail = (status: number, text: string, extra?: Record<string, unknown>, headers?: Record<string, string>) =>
  Response.json({ detail: text, ...extra }, { status, headers });

/** Addresses whose failed attempts ran over the limit, until when (this process's view; the limiter's is shared). */
const blockedUntil = new Map<string, number>();

const sha256 = (s: string) => crypto.createHash("sha256").update(s, "utf8").digest();

/** Constant-time: both sides hashed to 32 bytes first, so neither the length nor the content leaks by timing. */
export function internalKeyMatches(sent: string | null, expected: string): boolean {
  return crypto.timingSafeEqual(sha256(sent ?? ""), sha256(expected)) && sent !== null;
}

export function internalErrorResponse(err: unknown): Response {
  if (isAppError(err)) {
    if (err.code === "RESET_COOLDOWN" || err.code === "RATE_LIMITED") {
      const d = (err.details ?? {}) as { nextAllowedAt?: string; retryAfterSeconds?: number; retryAfter?: number };
      const retry = d.retryAfterSeconds ?? d.retryAfter;
      return detail(
        429,
        err.message,
        err.code === "RESET_COOLDOWN" ? { next_allowed_reset_at: d.nextAllowedAt, retry_after_seconds: retry } : { retry_after_seconds: retry },
        retry ? { "Retry-After": String(retry) } : undefined,
      );
    }
    return detail(err.status, err.message, { code: err.code });
  }
  if (err instanceof z.ZodError) {
    const first = zodDetails(err)[0];
    return detail(422, first ? `${first.path || "body"}: ${first.message}` : "The request body is not valid.", { code: "BAD_REQUEST" });
  }
  console.error("[keystead] unhandled error in an internal route:", err);
  return detail(500, "Something went wrong on our side; it has been logged.");
}

export type InternalContext<I> = { input: I; params: Record<string, string>; req: Request };

export function internalRoute<S extends z.ZodType = z.ZodUnknown>(
  opts: { input?: S },
  handler: (ctx: InternalContext<z.infer<S>>) => Promise<RestResult>,
) {
  return async (req: Request, ctx: RouteContext): Promise<Response> => {
    try {
      const expected = env().INTERNAL_API_KEY;
      if (!expected) return detail(404, "Not found.");
      const ip = clientIp(req);
      // An address over its failed-attempt budget is refused before its key is even compared.
      const blocked = blockedUntil.get(ip);
      if (blocked && blocked > Date.now()) {
        const retry = Math.max(1, Math.ceil((blocked - Date.now()) / 1000));
        return detail(429, `Too many failed attempts; try again in ${retry} s.`, { retry_after_seconds: retry }, { "Retry-After": String(retry) });
      }
      const sent = req.headers.get(HEADER);
      if (sent === null || !internalKeyMatches(sent, expected)) {
        try {
          await limit(`internal-auth-fail:${ip}`, env().RATE_LIMIT_IP);
        } catch (err) {
          const retry = ((isAppError(err) && (err.details as { retryAfter?: number })?.retryAfter) || 60) as number;
          if (blockedUntil.size > 10_000) for (const [k, t] of blockedUntil) if (t <= Date.now()) blockedUntil.delete(k);
          blockedUntil.set(ip, Date.now() + retry * 1000);
          throw err;
        }
        return detail(401, "Send the internal API key in the X-Internal-API-Key header.");
      }
      const params = Object.fromEntries(
        Object.entries((await ctx?.params) ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join("/") : v]),
      );
      const input = opts.input ? opts.input.parse(req.method === "GET" ? {} : await readJson(req, MAX_BODY_BYTES)) : undefined;
      const result = await handler({ input: input as z.infer<S>, params, req });
      return Response.json(result.body, { status: result.status ?? 200, headers: result.headers });
    } catch (err) {
      return internalErrorResponse(err);
    }
  };
}
