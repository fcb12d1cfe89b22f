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
 * The caller's address. Next.js fills x-forwarded-for with the socket address only when the request has
 * none, and a reverse proxy appends the peer it saw, so the right-most entry is the one nobody but our
 * nearest hop wrote. (Without a proxy a client can choose it; the per-key limit still holds.)
 */
export function clientIp(req: Request): string {
  const xff = req.headers.get("x-forwarded-for");
  if (xff) {
    const parts = xff.split(",").map((s) => s.trim()).filter(Boolean);
    if (parts.length) return parts[parts.length - 1]!;
  }
  return req.headers.get("x-real-ip") ?? "unknown";
}
