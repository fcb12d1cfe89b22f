import crypto from "node:crypto";
import { z } from "zod";
import { db } from "@/server/db/client";
import type { Actor } from "@/server/domain/audit/record";
import { authenticateBearer, bearerToken, grants, type ApiPrincipal, type ApiTokenScope } from "@/server/domain/admin/api-tokens";
import { AppError } from "@/server/domain/errors";
import { env } from "@/server/env";
import { errorResponse, limit, readJsonWithText, refuseIfOver, toErrorResponse, type RestResult } from "./handler";
import { bufferedRequest } from "./body";
import { idempotencyKey, MUTATING_METHODS, withIdempotency } from "./idempotency";

/**
 * The largest non-JSON body (a release upload, an imported file) an Idempotency-Key request may bring: such a body
 * is held in memory to compare it with the first one. Larger uploads work without the header (they stream).
 */
export const IDEMPOTENT_RAW_BODY_MAX_BYTES = 64 * 1024 * 1024;
import { adminAuthFailBucket } from "./admin-session";

/**
 * The wrapper for every /api/v1/admin route, in this order:
 * 1. the failed-attempt limit of the caller's IP (RATE_LIMIT_IP bad tokens a minute): once over, every request
 *    from that IP is 429 until the window passes, a valid token included, so guessing cannot go on in between;
 * 2. the bearer token (401 before anything else is looked at; expired and revoked tokens are unknown ones);
 * 3. the token's scopes: the route's `scope`, "admin" when it names none (403 FORBIDDEN naming the scope), so a
 *    route added without thinking about scopes is closed to every token but admin ones;
 * 4. Idempotency-Key on mutating calls (./idempotency.ts);
 * 5. the input (JSON body, or the query string for GET), then the handler; errors map through the same
 *    toErrorResponse as the public routes.
 */

export type AdminContext<I> = {
  actor: Actor;
  /** The token's scopes and name (for answers that say who is calling). */
  principal: ApiPrincipal;
  input: I;
  params: Record<string, string>;
  req: Request;
  /** The JSON body, for routes whose schema depends on the URL; an absent body reads as {}. */
  body: () => Promise<unknown>;
};

export type AdminRouteOptions<S extends z.ZodType> = {
  input?: S;
  /** The scope a token needs (server/db/schema/api-tokens.ts); default "admin". */
  scope?: ApiTokenScope;
};

/** Next passes `{ params: Promise<...> }`; a route without dynamic segments gets `{}`. */
type RouteContext = { params: Promise<Record<string, string | string[]>> };

// RFC 9112 6.3: a request with neither Content-Length nor Transfer-Encoding has no body.
function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  return req.headers.has("transfer-encoding") || (length !== null && length.trim() !== "0");
}

const isJson = (req: Request) => {
  const type = req.headers.get("content-type");
  return !type || /^application\/(.+\+)?json\b/i.test(type);
};

function queryObject(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URL(req.url).searchParams) {
    // `?email=&status=` from a form means "no filter", not "match the empty string".
    if (v !== "" && !(k in out)) out[k] = v;
  }
  return out;
}

const unauthorized = () =>
  errorResponse("UNAUTHORIZED", "Send a valid management API token: Authorization: Bearer <token>.", 401, {
    headers: { "WWW-Authenticate": 'Bearer realm="keystead-admin"' },
  });

export function adminRoute<S extends z.ZodType = z.ZodUnknown>(
  opts: AdminRouteOptions<S>,
  // A Response is passed through as it is: streamed downloads (GET /api/v1/admin/export).
  handler: (ctx: AdminContext<z.infer<S>>) => Promise<RestResult | Response>,
) {
  const scope: ApiTokenScope = opts.scope ?? "admin";
  return async (req: Request, ctx: RouteContext): Promise<Response> => {
    try {
      // Checked before the token, counted only for a bad one: authenticated scripts are not limited (they are
      // the operator's own), but a guesser who is over the limit cannot try even a right token.
      await refuseIfOver(adminAuthFailBucket(req), env().RATE_LIMIT_IP);
      const principal = await authenticateBearer(db(), bearerToken(req.headers.get("authorization")));
      if (!principal) {
        await limit(adminAuthFailBucket(req), env().RATE_LIMIT_IP);
        return unauthorized();
      }
      if (!grants(principal.scopes, scope)) {
        throw new AppError("FORBIDDEN", `This token lacks the "${scope}" scope this call needs.`, { scope });
      }
      const params = Object.fromEntries(
        Object.entries((await ctx?.params) ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join("/") : v]),
      );

      const readsQuery = req.method === "GET" || req.method === "HEAD";
      const key = MUTATING_METHODS.has(req.method) ? idempotencyKey(req) : null;
      // JSON bodies are read once, here, so the key's body hash and the handler see the same bytes. Other bodies
      // (uploads) stay unread for the handler.
      let body: { value: unknown; text: string } | undefined;
      const readBody = async () => {
        body ??= hasBody(req) ? await readJsonWithText(req) : { value: {}, text: "" };
        return body;
      };
      // Uploads and imported files (not JSON) with a key: the body is read into memory (bounded) so the key can be
      // checked against its bytes, and the handler reads that copy. Without a key they stream as always.
      let handlerReq = req;
      let rawBodyHash: string | undefined;
      if (key && !isJson(req)) {
        handlerReq = await bufferedRequest(req, IDEMPOTENT_RAW_BODY_MAX_BYTES);
        rawBodyHash = crypto.createHash("sha256").update(new Uint8Array(await handlerReq.clone().arrayBuffer())).digest("hex");
      }

      const execute = async (): Promise<Response> => {
        try {
          let input: unknown = undefined;
          if (opts.input) input = opts.input.parse(readsQuery ? queryObject(req) : (await readBody()).value);
          const result = await handler({
            actor: principal.actor,
            principal,
            input: input as z.infer<S>,
            params,
            req: handlerReq,
            body: async () => (await readBody()).value,
          });
          if (result instanceof Response) return result;
          return Response.json(result.body, { status: result.status ?? 200, headers: result.headers });
        } catch (err) {
          return toErrorResponse(err);
        }
      };

      if (!key) return await execute();
      const text = rawBodyHash !== undefined ? `sha256:${rawBodyHash}` : (await readBody()).text;
      let headers: Headers | undefined;
      const answer = await withIdempotency(
        { actor: `${principal.actor.type}:${principal.actor.id}`, key, method: req.method, path: new URL(req.url).pathname, body: text },
        async () => {
          const res = await execute();
          headers = res.headers;
          return { status: res.status, body: await res.json() };
        },
      );
      const out = new Headers(answer.replayed ? undefined : headers);
      if (answer.replayed) out.set("Idempotent-Replayed", "true");
      return Response.json(answer.body, { status: answer.status, headers: out });
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}
