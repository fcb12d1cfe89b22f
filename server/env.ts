import { z } from "zod";

/**
 * Every setting Keystead reads, parsed once. Nothing else in the codebase touches process.env for these
 * (the embedded-PostgreSQL bootstrap is the one exception: it decides DATABASE_URL before this runs).
 *
 * A bad value stops start-up with one line naming the setting: see `loadEnv`.
 */

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

const intSetting = (def: number, min = 0) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return def;
      if (!/^\d+$/.test(v.replaceAll(",", "").replaceAll("_", ""))) {
        ctx.addIssue({ code: "custom", message: `must be a whole number, got "${v}"` });
        return z.NEVER;
      }
      const n = Number(v.replaceAll(",", "").replaceAll("_", ""));
      if (n < min) {
        ctx.addIssue({ code: "custom", message: `must be at least ${min}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });

const urlSetting = (protocols: string[]) =>
  optionalString.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.join(" or ")}//` },
  );

const secretSetting = optionalString.refine((v) => v === undefined || v.length >= 16, {
  message: "must be at least 16 characters (try: openssl rand -base64 32)",
});

/** `next dev` and vitest set NODE_ENV; every other entry point (`next start`, tsx scripts) must bring AUTH_SECRET. */
const usesDevelopmentSecret = (nodeEnv: string | undefined) => nodeEnv === "development" || nodeEnv === "test";

const EnvSchema = z
  .object({
    // No default: only an explicit "development" (`next dev`) or "test" (vitest) may run on the development secret.
    NODE_ENV: z.enum(["development", "production", "test"]).optional(),
    DATABASE_URL: urlSetting(["postgres:", "postgresql:"]),
    APP_URL: urlSetting(["http:", "https:"]).transform((v) => (v ?? "http://localhost:3000").replace(/\/+$/, "")),
    PORT: intSetting(3000, 1),
    DATA_DIR: optionalString.transform((v) => v ?? "./.data"),
    AUTH_SECRET: secretSetting,
    /** The secret before AUTH_SECRET: what it sealed still opens until `npm run reseal` has moved it. */
    AUTH_SECRET_PREVIOUS: secretSetting,
    ADMIN_EMAILS: optionalString.transform((v) =>
      (v ?? "")
        .split(",")
        .map((e) => e.trim().toLowerCase())
        .filter(Boolean),
    ),
    ADMIN_API_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, {
      message: "must be at least 16 characters",
    }),
    /** Key Commander compatibility: the key behind /api/v1/internal/* (header X-Internal-API-Key); unset: those routes answer 404. */
    INTERNAL_API_KEY: optionalString.refine((v) => v === undefined || v.length >= 16, {
      message: "must be at least 16 characters (try: openssl rand -base64 32)",
    }),
    STRIPE_SECRET_KEY: optionalString.refine((v) => v === undefined || /^(sk|rk)_/.test(v), {
      message: "must start with sk_ or rk_",
    }),
    STRIPE_WEBHOOK_SECRET: optionalString.refine((v) => v === undefined || v.startsWith("whsec_"), {
      message: "must start with whsec_",
    }),
    STRIPE_API_URL: urlSetting(["http:", "https:"]),
    RESEND_API_KEY: optionalString,
    RESEND_BASE_URL: urlSetting(["http:", "https:"]),
    SMTP_URL: urlSetting(["smtp:", "smtps:"]),
    EMAIL_FROM: optionalString.transform((v) => v ?? "Keystead <licenses@localhost>"),
    OFFLINE_TOKEN_TTL: intSetting(1_209_600, 60),
    RATE_LIMIT_IP: intSetting(300),
    RATE_LIMIT_KEY: intSetting(60),
    /** Redis shared by the web replicas for rate and sign-in limits; unset: each process counts in memory. */
    REDIS_URL: urlSetting(["redis:", "rediss:"]),
    /** Prefix of Keystead's Redis keys, so deployments sharing one Redis do not count together. */
    REDIS_KEY_PREFIX: optionalString.transform((v) => v ?? "keystead"),
    /** How many reverse proxies stand in front, each appending to X-Forwarded-For; 0: the connection's address is the client's. */
    TRUST_PROXY: intSetting(0),
    WORKER: z
      .enum(["on", "off", ""])
      .optional()
      .transform((v) => (v === "off" ? "off" : "on")),
    /** First retry delay for emails and Stripe events; doubles each attempt (capped at one hour). */
    RETRY_BASE_MS: intSetting(10_000, 1),
    /** How often the worker looks for jobs scheduled in the future (new jobs are noticed at once). */
    WORKER_POLL_INTERVAL_MS: intSetting(2_000, 50),
    /** Days before expiry to remind customers whose license will not renew by itself. */
    EXPIRY_REMINDER_DAYS: optionalString.transform((v, ctx) => {
      const days = (v ?? "7,1").split(",").map((d) => Number(d.trim()));
      if (days.some((d) => !Number.isInteger(d) || d <= 0)) {
        ctx.addIssue({ code: "custom", message: `must be comma-separated whole days, got "${v}"` });
        return z.NEVER;
      }
      return days;
    }),
    /**
     * Outgoing webhooks may go to private, loopback and link-local addresses (tests, a receiver on the same
     * host or LAN). Off by default: an admin's URL must not become a way into the server's own network.
     */
    WEBHOOK_ALLOW_PRIVATE: z
      .enum(["1", "0", "true", "false", ""])
      .optional()
      .transform((v) => v === "1" || v === "true"),
    /** Lifetime of a signed download link, in seconds (server/domain/releases/links.ts). */
    DOWNLOAD_LINK_TTL: intSetting(600, 1),
    /** Largest release file an upload may bring, in bytes; a larger one is refused and leaves nothing on disk. */
    RELEASE_MAX_BYTES: intSetting(2 * 1024 ** 3, 1),
    /** Seconds a price read from Stripe is shown on the pricing page before it is read again. */
    PRICE_CACHE_TTL_SECONDS: intSetting(600, 1),
    /**
     * Seconds after our checkout created a session before its success page stops waiting for the webhook and
     * reads the session from Stripe itself (the same issuing path the webhook takes).
     */
    CHECKOUT_HEAL_AFTER_SECONDS: intSetting(15, 1),
    LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    /** What signs tokens and answers (server/domain/tokens/ed25519.ts): libsodium where it loads, or node:crypto. */
    ED25519_SIGNER: z
      .enum(["libsodium", "node"], { error: (issue) => `${JSON.stringify(issue.input)} (use libsodium or node)` })
      .default("libsodium"),
    /** Bearer token for GET /metrics (Prometheus); unset: /metrics answers 404. */
    METRICS_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 16, {
      message: "must be at least 16 characters",
    }),
  })
  .superRefine((env, ctx) => {
    if (!env.AUTH_SECRET && !usesDevelopmentSecret(env.NODE_ENV)) {
      ctx.addIssue({
        code: "custom",
        path: ["AUTH_SECRET"],
        message:
          env.NODE_ENV === "production"
            ? "is required in production"
            : "is required (only NODE_ENV=development or test may run on the development secret)",
      });
    }
    if (env.RESEND_API_KEY && env.SMTP_URL) {
      ctx.addIssue({ code: "custom", path: ["SMTP_URL"], message: "set either SMTP_URL or RESEND_API_KEY, not both" });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export class EnvError extends Error {
  constructor(readonly setting: string, detail: string) {
    super(`Invalid setting ${setting}: ${detail}`);
    this.name = "EnvError";
  }
}

/** Parses a settings object; throws EnvError naming the first bad setting. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new EnvError(String(issue.path[0] ?? "environment"), issue.message);
  }
  return result.data;
}

/**
 * One setting parsed on its own, with the same rule as in `env()`, for commands that need only that one:
 * `npm run migrate` seals nothing, so it must not demand AUTH_SECRET or any other setting.
 */
export function parseSetting<K extends keyof Env>(name: K, source: Record<string, string | undefined> = process.env): Env[K] {
  const result = EnvSchema.shape[name].safeParse(source[name]);
  if (!result.success) throw new EnvError(name, result.error.issues[0]!.message);
  return result.data as Env[K];
}

const cache = globalThis as unknown as { __keysteadEnv?: Env };

/** The process's settings, parsed on first use. */
export function env(): Env {
  cache.__keysteadEnv ??= parseEnv(process.env);
  return cache.__keysteadEnv;
}

/** For tests and the embedded-PostgreSQL bootstrap, which change process.env before start-up. */
export function resetEnvCache() {
  cache.__keysteadEnv = undefined;
}

/** What `npm run dev` and the tests seal with when AUTH_SECRET is unset (env() refuses that anywhere else). */
const DEVELOPMENT_AUTH_SECRET = "keystead-insecure-development-secret";

/**
 * The secret every at-rest encryption key is derived from. Outside `npm run dev` and the tests AUTH_SECRET is
 * required (env() stops otherwise); there a fixed, loudly-named fallback keeps development zero-config.
 */
export function authSecret(): string {
  return env().AUTH_SECRET ?? DEVELOPMENT_AUTH_SECRET;
}

/** The secret before the current one, during a rotation: what it sealed still opens (server/domain/secret-box.ts). */
export function previousAuthSecret(): string | undefined {
  return env().AUTH_SECRET_PREVIOUS;
}

/**
 * `npm run dev` or the tests: the only modes that may use the development secret or show emails in the dev
 * mailbox. An unset NODE_ENV (a tsx script, `npm run worker` on a server) is not development.
 */
export function isDevelopmentMode(e: Env = env()): boolean {
  return usesDevelopmentSecret(e.NODE_ENV);
}

export function emailProvider(e: Env = env()): "resend" | "smtp" | "dev" {
  if (e.RESEND_API_KEY) return "resend";
  if (e.SMTP_URL) return "smtp";
  return "dev";
}
