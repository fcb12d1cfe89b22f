/**
 * The one error type of the domain. `code` is a public error code (UPPER_SNAKE_CASE); the REST layer and
 * tRPC map it to a status in one place each (server/rest/handler.ts, server/api/trpc.ts).
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_SIGNATURE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  SUSPENDED: 403,
  REVOKED: 403,
  EXPIRED: 403,
  PRODUCT_MISMATCH: 403,
  /** A trial license activated on a machine that already ran a trial of that product. */
  TRIAL_USED: 403,
  NOT_FOUND: 404,
  NOT_ACTIVATED: 404,
  PLAN_NOT_FOUND: 404,
  PRODUCT_NOT_FOUND: 404,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  TOO_MANY_ACTIVATIONS: 409,
  INVALID_STATE: 409,
  METHOD_NOT_ALLOWED: 405,
  /** A trial asked for with a disposable (throwaway) email address the operator refuses. */
  DISPOSABLE_EMAIL: 422,
  /** A trial confirm link that expired or never existed. */
  LINK_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  /** Self-service reset inside the plan's cooldown; details: { nextAllowedAt, retryAfterSeconds }. */
  RESET_COOLDOWN: 429,
  INTERNAL: 500,
  NOT_CONFIGURED: 503,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;
