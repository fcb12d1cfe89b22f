import { addressFromDoor } from "@/server/http/client-address";

/**
 * Fixed-window rate limiter kept in process memory: cheap enough for the validate hot path. Each replica
 * counts on its own, so N web replicas allow up to N x the limit; put a shared limiter in front for more.
 */
export type RateLimitResult = { ok: true } | { ok: false; retryAfterSeconds: number };

const WINDOW_MS = 60_000;

export class RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();
  private lastSweep = Date.now();

  /** `windowMs`: how long one window lasts (every bucket of this limiter shares it). */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly windowMs: number = WINDOW_MS,
  ) {}

  /** Counts one request for `bucket`; `limit` 0 disables the check. */
  hit(bucket: string, limit: number): RateLimitResult {
    if (limit <= 0) return { ok: true };
    const t = this.now();
    this.sweep(t);
    let w = this.windows.get(bucket);
    if (!w || t - w.start >= this.windowMs) {
      w = { start: t, count: 0 };
      this.windows.set(bucket, w);
    }
    w.count++;
    if (w.count <= limit) return { ok: true };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((w.start + this.windowMs - t) / 1000)) };
  }

  /** Whether `bucket` is already past `limit` in its current window, without counting a request. */
  peek(bucket: string, limit: number): RateLimitResult {
    if (limit <= 0) return { ok: true };
    const t = this.now();
    const w = this.windows.get(bucket);
    if (!w || t - w.start >= this.windowMs || w.count < limit) return { ok: true };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((w.start + this.windowMs - t) / 1000)) };
  }

  private sweep(t: number) {
    if (t - this.lastSweep < this.windowMs) return;
    this.lastSweep = t;
    for (const [k, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(k);
  }
}

const holder = globalThis as unknown as { __keysteadRateLimiter?: RateLimiter };
export function rateLimiter(): RateLimiter {
  holder.__keysteadRateLimiter ??= new RateLimiter();
  return holder.__keysteadRateLimiter;
}

/**
 * The caller's address, as the door (server/http/door.ts) decided it from the connection and TRUST_PROXY.
 * Never read from X-Forwarded-For here: that header is the client's to write.
 */
export function clientIp(req: Request): string {
  return addressFromDoor(req.headers);
}
