import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { z } from "zod";
import { fromAnotherSite } from "@/server/auth/same-site";
import { sessionFromHeaders, type AppSession } from "@/server/auth/session";
import { db, type Db } from "@/server/db/client";
import { AppError, isAppError } from "@/server/domain/errors";
import { devMailboxEnabled } from "@/server/domain/mail/dev-mailbox";
import { portalCustomerIds } from "@/server/domain/portal/confirmations";

/**
 * Who is signed in (filled from the next-auth session). `isAdmin` is decided at each request from ADMIN_EMAILS,
 * never stored; `customerId` is the customer record with the same email (case-insensitive), if any.
 */
export type { AppSession };

export type TRPCContext = { db: Db; session: AppSession | null; headers: Headers };

/** The request's context: the database session behind the cookie (server/auth/session.ts), or none. */
export async function createTRPCContext(opts: { headers: Headers }): Promise<TRPCContext> {
  const database = db();
  return { db: database, session: await sessionFromHeaders(database, opts.headers), headers: opts.headers };
}

/** HTTP status of an AppError -> the tRPC code (the public code travels beside it as data.appCode). */
const CODE_BY_STATUS: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "TOO_MANY_REQUESTS",
  503: "SERVICE_UNAVAILABLE",
};

/** An AppError as tRPC sees it: the matching tRPC code, the same message, the AppError as cause. */
export function toTRPCError(err: AppError): TRPCError {
  return new TRPCError({
    code: CODE_BY_STATUS[err.status] ?? "INTERNAL_SERVER_ERROR",
    message: err.message,
    cause: err,
  });
}

const t = initTRPC.context<TRPCContext>().create({
  // The one place errors are shaped for tRPC (server/rest/handler.ts is its REST twin): an AppError keeps its
  // public code, message and exact status; input errors carry their issues; anything else is an opaque 500.
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    if (isAppError(cause)) {
      return { ...shape, data: { ...shape.data, httpStatus: cause.status, appCode: cause.code, issues: null } };
    }
    if (cause instanceof z.ZodError) {
      return { ...shape, data: { ...shape.data, appCode: "BAD_REQUEST" as const, issues: cause.issues } };
    }
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    return {
      ...shape,
      message: internal ? "Something went wrong on our side." : shape.message,
      data: { ...shape.data, appCode: internal ? ("INTERNAL" as const) : null, issues: null },
    };
  },
});

/** Domain code throws AppError; every procedure turns it into the matching TRPCError (also for server callers). */
const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && isAppError(result.error.cause)) throw toTRPCError(result.error.cause);
  return result;
});

/** For fetchRequestHandler: an unexpected error is logged with its cause, never swallowed. */
export function logTRPCError({ error, path }: { error: TRPCError; path?: string }) {
  if (isAppError(error.cause) && error.cause.status < 500) return;
  if (error.code !== "INTERNAL_SERVER_ERROR" && !isAppError(error.cause)) return;
  console.error(`[trpc] ${path ?? "<no path>"} failed:`, error.cause ?? error);
}

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * A mutation sent by another site's page is refused (CSRF): the session cookie would go along with it. Server
 * callers and scripts send no Origin and pass (server/auth/same-site.ts says why that is safe).
 */
const sameSiteMutations = t.middleware(({ ctx, type, next }) => {
  if (type === "mutation" && fromAnotherSite(ctx.headers)) {
    throw new AppError("FORBIDDEN", "Changes can only be made from this site's own pages.");
  }
  return next();
});

export const publicProcedure = t.procedure.use(appErrors).use(sameSiteMutations);

/**
 * Developer tools (the dev mailbox shows whole emails, keys included): only when no email provider is set and
 * NODE_ENV is not production.
 */
export const devProcedure = publicProcedure.use(({ next }) => {
  if (!devMailboxEnabled()) {
    throw new AppError(
      "FORBIDDEN",
      "Developer tools are off: an email provider is configured or NODE_ENV is production.",
    );
  }
  return next();
});

/** Any signed-in person; the context's session is non-null from here on. */
export const signedInProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.session) throw new AppError("UNAUTHORIZED", "Sign in first.");
  return next({ ctx: { ...ctx, session: ctx.session } });
});

/**
 * A customer in the portal. A customer sees only their own data: every portal procedure filters by
 * ctx.customerIds (ctx.customerId and the addresses it has proven), which come from the session and the
 * database, never from input.
 */
export const customerProcedure = signedInProcedure.use(async ({ ctx, next }) => {
  const customerId = ctx.session.customerId;
  // Their own record first, then every address they have proven (portal/confirmations.ts).
  const customerIds = await portalCustomerIds(ctx.db, customerId);
  return next({ ctx: { ...ctx, customerId, customerIds } });
});

/** The admin app: only emails listed in ADMIN_EMAILS. */
export const adminProcedure = signedInProcedure.use(({ ctx, next }) => {
  if (!ctx.session.user.isAdmin) throw new AppError("FORBIDDEN", "This needs an admin account.");
  return next({ ctx: { ...ctx, admin: { email: ctx.session.user.email } } });
});
