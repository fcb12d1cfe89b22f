import { z } from "zod";
import { env } from "@/server/env";
import { databaseUnavailable } from "@/server/db/client";
import { AppError, isAppError, type ErrorCode } from "@/server/domain/errors";
import { normalizeForeignKey, normalizeLicenseKey } from "@/server/domain/licensing/license-key";
import { recordLicenseAnswer } from "@/server/observability/metrics";
import { readBodyText, utf8 } from "./body";
import { dualRoute, jsonAnswer, type DualRoute, type PublicAnswer, type PublicRequest } from "./public-route";
import { rateLimits } from "./rate-limit";
import { NONCE_HEADER, checkNonce, signAnswer } from "./signed-answer";
import { errorField, logger } from "@/server/observability/log";

/**
 * The one REST wrapper: size and content checks, JSON parsing, zod validation, per-IP and per-key rate limits,
 * and the single mapping from errors to `{ error: { code, message } }`. Route files stay thin adapters.
 */

const MAX_BODY_BYTES = 64 * 1024;

export type RestResult = { status?: number; body: unknown; headers?: Record<string, string> };

type ErrorParts = { status: number; body: { error: Record<string, unknown> }; headers: Record<string, string> };

function errorBody(code: ErrorCode | string, message: string, status: number, details?: unknown, headers: Record<string, string> = {}): ErrorParts {
  const error: Record<string, unknown> = { code, message };
  if (details !== undefined) error.details = details;
  return { status, body: { error }, headers };
}

export function errorResponse(code: ErrorCode | string, message: string, status: number, extra?: { details?: unknown; headers?: Record<string, string> }) {
  const { body, headers } = errorBody(code, message, status, extra?.details, extra?.headers);
  return Response.json(body, { status, headers });
}

export function toErrorResponse(err: unknown): Response {
  const { status, body, headers } = errorParts(err);
  return Response.json(body, { status, headers });
}

/** The one mapping from an error to the contract's `{ error: { code, message } }` answer. */
export function errorParts(err: unknown): ErrorParts {
  const parts = errorBody;
  if (isAppError(err)) {
    const headers: Record<string, string> = {};
    if (err.code === "RATE_LIMITED" && typeof (err.details as { retryAfter?: number })?.retryAfter === "number") {
      headers["Retry-After"] = String((err.details as { retryAfter: number }).retryAfter);
    }
    return parts(err.code, err.message, err.status, err.code === "RATE_LIMITED" ? undefined : err.details, headers);
  }
  if (err instanceof z.ZodError) {
    return parts("BAD_REQUEST", "The request body is not valid.", 400, zodDetails(err));
  }
  if (databaseUnavailable(err)) {
    // Never a conclusion ("invalid", "not found") drawn from a query that did not run: the client retries.
    logger().error(`[keystead] database unavailable: ${err instanceof Error ? err.message : String(err)}`);
    return parts("UNAVAILABLE", "The service cannot reach its database right now; try again in a few seconds.", 503, undefined, { "Retry-After": "5" });
  }
  logger().error({ err: errorField(err) }, "[keystead] unhandled error in a REST route");
  return parts("INTERNAL", "Something went wrong on our side; it has been logged.", 500);
}

export function zodDetails(err: z.ZodError) {
  return err.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

/**
 * Reads a JSON body, refusing with a 4xx anything that is not one. The body goes through the one bounded
 * reader (./body.ts), so a client cannot make us buffer an arbitrarily large (or chunked, unannounced) body.
 */
export async function readJson(req: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  return (await readJsonWithText(req, maxBytes)).value;
}

/** readJson, also returning the body's text as received (for hashing, e.g. Idempotency-Key). */
export async function readJsonWithText(req: Request, maxBytes = MAX_BODY_BYTES): Promise<{ value: unknown; text: string }> {
  assertJsonType(req.headers.get("content-type") ?? "");
  return parseJsonText(await readBodyText(req, maxBytes));
}

/** Refusing non-JSON types also keeps cross-site HTML forms (text/plain, form-encoded) from reaching us. */
function assertJsonType(type: string) {
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new AppError("BAD_REQUEST", "Send the body as JSON (Content-Type: application/json).");
  }
}

function parseJsonText(text: string): { value: unknown; text: string } {
  if (text.trim() === "") throw new AppError("BAD_REQUEST", "The request body is empty; send a JSON object.");
  try {
    return { value: JSON.parse(text), text };
  } catch {
    throw new AppError("BAD_REQUEST", "The request body is not valid JSON.");
  }
}

/** readJson for a PublicRequest (either door). */
async function readPublicJson(req: PublicRequest, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  assertJsonType(req.header("content-type") ?? "");
  return parseJsonText(utf8(await req.body(maxBytes))).value;
}

/**
 * Throws RATE_LIMITED when `bucket` has already used its `max` for this minute, without counting this request:
 * for limits that count only failures but must also stop a success once over (the management API's bad-token limit).
 */
export async function refuseIfOver(bucket: string, max: number) {
  const result = await rateLimits().peek(bucket, max);
  if (!result.ok) {
    throw new AppError("RATE_LIMITED", `Too many requests; try again in ${result.retryAfterSeconds} s.`, {
      retryAfter: result.retryAfterSeconds,
    });
  }
}

/**
 * Counts one request in `bucket`; over `max` per minute throws RATE_LIMITED (with Retry-After). Always
 * `await limit(...)`: the count may live in Redis, and an un-awaited call would not limit at all.
 */
export async function limit(bucket: string, max: number): Promise<void> {
  const result = await rateLimits().hit(bucket, max);
  if (!result.ok) {
    throw new AppError("RATE_LIMITED", `Too many requests; try again in ${result.retryAfterSeconds} s.`, {
      retryAfter: result.retryAfterSeconds,
    });
  }
}

type PublicRouteOptions<S extends z.ZodType> = {
  /** Names the route in rate-limit buckets. */
  name: string;
  input: S;
  /** Pulls the license key out of the parsed input for the per-key limit. */
  key?: (input: z.infer<S>) => string | undefined;
};

/**
 * A public JSON POST route for client software: rate limited per IP, then per license key. Every answer,
 * errors included, is signed (./signed-answer.ts). Served by both doors (./public-route.ts).
 */
export function publicJsonRoute<S extends z.ZodType>(opts: PublicRouteOptions<S>, handler: (input: z.infer<S>) => Promise<RestResult>): DualRoute {
  // Every await here is a turn of the microtask queue on the hottest path: none is taken for a limit that is off.
  const answer = async (req: PublicRequest): Promise<PublicAnswer> => {
    try {
      const { RATE_LIMIT_IP, RATE_LIMIT_KEY } = env();
      if (RATE_LIMIT_IP > 0) await limit(`ip:${req.clientIp}`, RATE_LIMIT_IP);
      checkNonce(req.header(NONCE_HEADER) ?? "");
      const input = opts.input.parse(await readPublicJson(req));
      const key = opts.key?.(input);
      // Count every spelling of a key (case, dashes, O/0, I/L/1) as the same key.
      if (key && RATE_LIMIT_KEY > 0) await limit(`key:${normalizeLicenseKey(key) ?? normalizeForeignKey(key) ?? key}`, RATE_LIMIT_KEY);
      const result = await handler(input);
      recordLicenseAnswer(opts.name, answerCode(result));
      return jsonAnswer(result.status ?? 200, result.body, result.headers);
    } catch (err) {
      recordLicenseAnswer(opts.name, errorCode(err));
      const { status, body, headers } = errorParts(err);
      return jsonAnswer(status, body, headers);
    }
  };
  return dualRoute(async (req) => signAnswer({ method: req.method, path: req.path, nonce: req.header(NONCE_HEADER) ?? "" }, await answer(req)));
}

/** The `code` of an answer, for the metrics: validate names one; an activation is new (201) or was there (200). */
function answerCode(result: RestResult): string {
  const code = (result.body as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  if (carriesActivation(result)) return result.status === 201 ? "ACTIVATED" : "ALREADY_ACTIVATED";
  return "OK";
}

const carriesActivation = (result: RestResult) => (result.body as { activation?: unknown } | null)?.activation !== undefined;

function errorCode(err: unknown): string {
  if (isAppError(err)) return err.code;
  if (err instanceof z.ZodError) return "BAD_REQUEST";
  return "INTERNAL";
}

/** A public GET route: rate limited per IP only. Served by both doors (./public-route.ts). */
export function publicGetRoute(handler: () => Promise<RestResult>): DualRoute {
  return dualRoute(async (req) => {
    try {
      await limit(`ip:${req.clientIp}`, env().RATE_LIMIT_IP);
      const result = await handler();
      return jsonAnswer(result.status ?? 200, result.body, result.headers);
    } catch (err) {
      const { status, body, headers } = errorParts(err);
      return jsonAnswer(status, body, headers);
    }
  });
}

export type RouteHandler = (req: Request) => Promise<Response>;
/** A route's handler per method, as Next's route files export them. */
export type RouteMethods = Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", RouteHandler>;

/**
 * Handlers for the methods a route does not serve, so they get the contract's error body too:
 * `{ ...methodNotAllowed("POST"), POST: publicJsonRoute(...) }`.
 */
export function methodNotAllowed(...allowed: string[]): RouteMethods {
  const handler = async (req: Request) =>
    errorResponse("METHOD_NOT_ALLOWED", `${req.method} is not supported here; use ${allowed.join(" or ")}.`, 405, {
      headers: { Allow: allowed.join(", ") },
    });
  return { GET: handler, POST: handler, PUT: handler, PATCH: handler, DELETE: handler };
}
