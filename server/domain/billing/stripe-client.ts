import Stripe from "stripe";
import { env } from "@/server/env";

/**
 * A processing failure that retrying cannot fix (missing setting, unbound price, a session Stripe says does not
 * exist): the event is marked failed at once with this message, for the admin to fix and replay.
 */
export class PermanentEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentEventError";
  }
}

type StripeConfig = NonNullable<ConstructorParameters<typeof Stripe>[1]>;

/**
 * Stripe SDK options for an API base URL. The SDK has no "base URL" option, only host/port/protocol, and it
 * throws on unknown config keys, so the URL is taken apart here.
 */
export function stripeConfigForUrl(apiUrl: string | undefined): StripeConfig {
  const config: StripeConfig = {
    // One quick SDK retry absorbs a blip; anything longer is our own job backoff, which survives restarts.
    maxNetworkRetries: 1,
    // A hung API must not hold a worker slot for the SDK's default 80 s.
    timeout: 30_000,
  };
  if (!apiUrl) return config;
  const url = new URL(apiUrl);
  if (url.pathname !== "/" && url.pathname !== "") {
    throw new PermanentEventError(`STRIPE_API_URL must be a bare origin (no path), got "${apiUrl}".`);
  }
  const protocol = url.protocol === "http:" ? "http" : "https";
  return {
    ...config,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port ? Number(url.port) : protocol === "http" ? 80 : 443,
    protocol,
  };
}

const holder = globalThis as unknown as { __keysteadStripe?: { id: string; client: Stripe } };

/**
 * The Stripe API client built from the settings. Throws PermanentEventError when STRIPE_SECRET_KEY is unset:
 * an event that needs the API cannot succeed by being retried until someone configures it.
 */
export function stripeClient(): Stripe {
  const { STRIPE_SECRET_KEY: key, STRIPE_API_URL: apiUrl } = env();
  if (!key) {
    throw new PermanentEventError(
      "STRIPE_SECRET_KEY is not set, so the Stripe API cannot be read to process this event; set it and replay the event.",
    );
  }
  const id = `${key}|${apiUrl ?? ""}`;
  if (holder.__keysteadStripe?.id !== id) {
    holder.__keysteadStripe = { id, client: new Stripe(key, stripeConfigForUrl(apiUrl)) };
  }
  return holder.__keysteadStripe.client;
}

/**
 * Whether a failure may go away by itself (network, Stripe 5xx/429, database races) and deserves a retry.
 * Stripe's other 4xx answers (unknown session, bad key, no permission) will not change on retry.
 */
export function isTransientError(err: unknown): boolean {
  if (err instanceof PermanentEventError) return false;
  if (err instanceof Stripe.errors.StripeError) {
    if (err instanceof Stripe.errors.StripeConnectionError) return true;
    if (err instanceof Stripe.errors.StripeRateLimitError) return true;
    if (err instanceof Stripe.errors.StripeAPIError) return true;
    const status = err.statusCode ?? 0;
    return status === 0 || status === 409 || status >= 500;
  }
  // Anything else (database serialization/unique races, a dropped connection, a bug): retrying is safe because
  // processing is idempotent, and after the last attempt the event is marked failed with this error for a human.
  return true;
}

/** A one-line description of an error for `last_error`, unwrapping drizzle's "Failed query" wrapper. */
export function describeError(err: unknown): string {
  if (err instanceof Stripe.errors.StripeError) {
    const where = err.statusCode ? `error (HTTP ${err.statusCode}, ${err.type})` : `unreachable (${err.type})`;
    return `Stripe API ${where}: ${err.message}`;
  }
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    if (err.message.startsWith("Failed query") && cause instanceof Error) return cause.message;
    return err.message;
  }
  return String(err);
}
