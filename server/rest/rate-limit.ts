import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { env } from "@/server/env";
import { addressFromDoor } from "@/server/http/client-address";
import { onShutdown } from "@/server/http/shutdown";
import { logger } from "@/server/observability/log";

/**
 * Fixed-window rate limits (rate-limiter-flexible). With REDIS_URL set, every web replica counts in the same
 * Redis, so a limit holds across replicas; without it, each process counts in its own memory (N replicas then
 * allow up to N x the limit).
 *
 * Redis going away mid-run does not open the doors: each Redis limiter has an in-memory insurance limiter of the
 * same size, so while Redis is unreachable every replica still limits on its own (a per-replica limit, as without
 * Redis), one log line says so, and another says when Redis is back. A request never waits on a Redis that does not
 * answer: commands fail after REDIS_TIMEOUT_MS and are counted in memory instead.
 */
export type RateLimitResult = { ok: true } | { ok: false; retryAfterSeconds: number };

const WINDOW_MS = 60_000;
/** How long one Redis round trip may take before the request is counted in memory instead. */
const REDIS_TIMEOUT_MS = 500;

export type RateLimits = {
  /** Counts one request for `bucket`; over `max` in the window answers `ok: false`. `max` 0 disables the check. */
  hit(bucket: string, max: number, windowMs?: number): Promise<RateLimitResult>;
  /** Whether `bucket` has already used its `max` in the window, without counting a request. */
  peek(bucket: string, max: number, windowMs?: number): Promise<RateLimitResult>;
  /** Where the counts live now: "redis", "memory" (no REDIS_URL) or "memory (redis unreachable)". */
  store(): string;
  close(): Promise<void>;
};

export type RateLimitOptions = {
  /** redis:// or rediss:// URL; unset: counts in this process's memory. */
  redisUrl?: string;
  /** Prefix of every Redis key, so several deployments (or tests) can share one Redis. */
  keyPrefix?: string;
  log?: (line: string) => void;
};

export function createRateLimits(opts: RateLimitOptions = {}): RateLimits {
  const prefix = opts.keyPrefix ?? "keystead";
  const log = opts.log ?? ((line: string) => logger().warn(line));
  const limiters = new Map<string, RateLimiterAbstract>();
  let redis: Redis | undefined;
  let redisDown = false;
  let closing = false;

  if (opts.redisUrl) {
    redis = new Redis(opts.redisUrl, {
      // Fail at once while disconnected (the insurance limiter answers) instead of queueing behind a reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_TIMEOUT_MS,
      connectTimeout: 2_000,
      // Reconnect for ever, at most every 2 s: Redis coming back is noticed by itself.
      retryStrategy: (times) => Math.min(times * 100, 2_000),
    });
    // Never the URL in a log line: it may carry a password. A connection lost shows as "close" first (the
    // reconnect attempts' errors follow): either is the news, once per outage.
    const down = (why: string) => {
      if (redisDown) return;
      redisDown = true;
      log(`[keystead] Redis unreachable (${why}): rate limits are counted in this process's memory until it is back`);
    };
    redis.on("error", (err: Error) => down(err.message));
    redis.on("close", () => {
      if (!closing) down("connection closed");
    });
    redis.on("ready", () => {
      if (!redisDown) return;
      redisDown = false;
      log("[keystead] Redis reachable again: rate limits are shared across replicas");
    });
  }

  const limiter = (max: number, windowMs: number): RateLimiterAbstract => {
    const id = `${windowMs}:${max}`;
    let l = limiters.get(id);
    if (!l) {
      const duration = Math.max(1, Math.round(windowMs / 1000));
      const keyPrefix = `${prefix}:rl:${duration}s`;
      const memory = new RateLimiterMemory({ keyPrefix, points: max, duration });
      l = redis
        ? new RateLimiterRedis({ storeClient: redis, keyPrefix, points: max, duration, rejectIfRedisNotReady: true, insuranceLimiter: memory })
        : memory;
      limiters.set(id, l);
    }
    return l;
  };

  return {
    async hit(bucket, max, windowMs = WINDOW_MS) {
      if (max <= 0) return { ok: true };
      try {
        await limiter(max, windowMs).consume(bucket);
        return { ok: true };
      } catch (res) {
        if (res instanceof RateLimiterRes) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
        // Both Redis and the insurance failed (cannot happen with a memory insurance): let the request through.
        log(`[keystead] rate limit not counted: ${res instanceof Error ? res.message : String(res)}`);
        return { ok: true };
      }
    },
    async peek(bucket, max, windowMs = WINDOW_MS) {
      if (max <= 0) return { ok: true };
      const l = limiter(max, windowMs);
      let res: RateLimiterRes | null;
      try {
        res = await l.get(bucket);
      } catch {
        // Redis away: ask the in-memory insurance, which counts while Redis is unreachable.
        res = await (l as RateLimiterRedis & { insuranceLimiter?: RateLimiterAbstract }).insuranceLimiter?.get(bucket).catch(() => null) ?? null;
      }
      if (!res || res.consumedPoints < max) return { ok: true };
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
    },
    store: () => (!redis ? "memory" : redisDown || redis.status !== "ready" ? "memory (redis unreachable)" : "redis"),
    async close() {
      if (!redis) return;
      closing = true;
      // QUIT only on a live connection: on one that is reconnecting it would wait for the reconnect.
      if (redis.status === "ready") await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}

// On globalThis: the door's bundle and each Next route bundle must count in the one store of this process.
const holder = globalThis as unknown as { __keysteadRateLimits?: RateLimits };

/** The process's limits, from REDIS_URL and REDIS_KEY_PREFIX. */
export function rateLimits(): RateLimits {
  if (!holder.__keysteadRateLimits) {
    const limits = createRateLimits({ redisUrl: env().REDIS_URL, keyPrefix: env().REDIS_KEY_PREFIX });
    holder.__keysteadRateLimits = limits;
    onShutdown(() => limits.close());
  }
  return holder.__keysteadRateLimits;
}

/**
 * The caller's address, as the door (server/http/door.ts) decided it from the connection and TRUST_PROXY.
 * Never read from X-Forwarded-For here: that header is the client's to write.
 */
export function clientIp(req: Request): string {
  return addressFromDoor(req.headers);
}
