import { z } from "zod";
import { db } from "@/server/db/client";
import type { Actor } from "@/server/domain/audit/record";
import { authenticateApiToken, bearerToken } from "@/server/domain/admin/api-tokens";
import { env } from "@/server/env";
import { errorResponse, limit, readJson, toErrorResponse, type RestResult } from "./handler";
import { clientIp } from "./rate-limit";

/**
 * The wrapper for every /api/v1/admin route: bearer auth first (401 before anything else is looked at), then
 * the input (JSON body, or the query string for GET), then the handler; errors map through the same
 * toErrorResponse as the public routes.
 */

export type AdminContext<I> = {
  actor: Actor;
  input: I;
  params: Record<string, string>;
  req: Request;
  /** The JSON body, for routes whose schema depends on the URL; an absent body reads as {}. */
  body: () => Promise<unknown>;
};

/** Next passes `{ params: Promise<...> }`; a route without dynamic segments gets `{}`. */
type RouteContext = { params: Promise<Record<string, string | string[]>> };

// RFC 9112 6.3: a request with neither Content-Length nor Transfer-Encoding has no body.
function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  return req.headers.has("transfer-encoding") || (length !== null && length.trim() !== "0");
}

const readBody = async (req: Request): Promise<unknown> => (hasBody(req) ? readJson(req) : {});

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
  opts: { input?: S },
  handler: (ctx: AdminContext<z.infer<S>>) => Promise<RestResult>,
) {
  return async (req: Request, ctx: RouteContext): Promise<Response> => {
    try {
      const actor = await authenticateApiToken(db(), bearerToken(req.headers.get("authorization")));
      if (!actor) {
        // Failed attempts are rate limited per IP (RATE_LIMIT_IP): guessing tokens gets slow. Authenticated
        // scripts are not limited: they are the operator's own.
        await limit(`admin-auth-fail:${clientIp(req)}`, env().RATE_LIMIT_IP);
        return unauthorized();
      }
      const params = Object.fromEntries(
        Object.entries((await ctx?.params) ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join("/") : v]),
      );
      let input: unknown = undefined;
      if (opts.input) {
        const raw = req.method === "GET" || req.method === "HEAD" ? queryObject(req) : await readBody(req);
        input = opts.input.parse(raw);
      }
      const result = await handler({ actor, input: input as z.infer<S>, params, req, body: () => readBody(req) });
      return Response.json(result.body, { status: result.status ?? 200, headers: result.headers });
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}
