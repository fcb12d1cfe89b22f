import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "./helpers/app";
import { freePort } from "./helpers/ports";
import { createRateLimits, type RateLimits } from "@/server/rest/rate-limit";

/**
 * The limiter behind every `await limit(...)` (server/rest/rate-limit.ts), as two web replicas hold it: two
 * instances in one test process stand for two processes, since each has its own client and its own memory.
 * Redis: the machine's on 127.0.0.1:6379 (shared with other tests: every test uses its own key prefix), and one
 * of our own on a free port for the test that stops it.
 */
const SHARED_REDIS = "redis://127.0.0.1:6379";
const prefix = () => `keystead-test:${crypto.randomBytes(6).toString("hex")}`;
const opened: RateLimits[] = [];
const open = (opts: Parameters<typeof createRateLimits>[0]) => {
  const l = createRateLimits(opts);
  opened.push(l);
  return l;
};

async function hits(l: RateLimits, bucket: string, n: number, max: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await l.hit(bucket, max));
  return out.filter((r) => r.ok).length;
}

/** A Redis server of this test's own, which the test may stop and start again on the same port. */
async function ownRedis(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await eventually(
    async () => {
      const probe = createRateLimits({ redisUrl: `redis://127.0.0.1:${port}`, keyPrefix: prefix(), log: () => undefined });
      await new Promise((r) => setTimeout(r, 100));
      const up = probe.store() === "redis";
      await probe.close();
      return up;
    },
    10_000,
    "our redis-server to answer",
  );
  return child;
}
const stopRedis = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });

describe("rate limits shared through Redis", () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((l) => l.close()));
    await Promise.all(children.map(stopRedis));
  });

  it("holds one limit across two replicas when REDIS_URL is set", async () => {
    const keyPrefix = prefix();
    const a = open({ redisUrl: SHARED_REDIS, keyPrefix });
    const b = open({ redisUrl: SHARED_REDIS, keyPrefix });
    await eventually(async () => a.store() === "redis" && b.store() === "redis", 5_000, "both clients ready");
    // 10 allowed a minute; each replica is sent 8: one replica alone would allow all 8, together only 10 go through.
    const [okA, okB] = [await hits(a, "ip:203.0.113.7", 8, 10), await hits(b, "ip:203.0.113.7", 8, 10)];
    expect(okA + okB).toBe(10);
    const refused = await b.hit("ip:203.0.113.7", 10);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Another bucket is counted on its own, and another prefix (another deployment or test) too.
    expect(await hits(a, "ip:203.0.113.8", 3, 10)).toBe(3);
    const other = open({ redisUrl: SHARED_REDIS, keyPrefix: prefix() });
    await eventually(async () => other.store() === "redis", 5_000, "client ready");
    expect(await hits(other, "ip:203.0.113.7", 3, 10)).toBe(3);
  });

  it("counts per process without REDIS_URL", async () => {
    const a = open({});
    const b = open({});
    expect(a.store()).toBe("memory");
    expect(await hits(a, "ip:198.51.100.1", 8, 5)).toBe(5);
    expect(await hits(b, "ip:198.51.100.1", 8, 5)).toBe(5);
  });

  it("shares sign-in windows (15 min) across replicas as well", async () => {
    const keyPrefix = prefix();
    const a = open({ redisUrl: SHARED_REDIS, keyPrefix });
    const b = open({ redisUrl: SHARED_REDIS, keyPrefix });
    await eventually(async () => a.store() === "redis" && b.store() === "redis", 5_000, "both clients ready");
    const window = 15 * 60_000;
    let ok = 0;
    for (let i = 0; i < 6; i++) ok += (await (i % 2 ? a : b).hit("sign-in:address:ada@example.com", 5, window)).ok ? 1 : 0;
    expect(ok).toBe(5);
    const refused = await a.hit("sign-in:address:ada@example.com", 5, window);
    expect(refused.ok).toBe(false);
    // Retry-After is counted from the 15-minute window, not the minute of the REST limits.
    if (!refused.ok) expect(refused.retryAfterSeconds).toBeGreaterThan(60);
  });

  it("keeps limiting in memory while Redis is away, says so once, and shares again when it is back", async () => {
    const port = await freePort();
    const redis = await ownRedis(port);
    children.push(redis);
    const lines: string[] = [];
    const keyPrefix = prefix();
    const a = open({ redisUrl: `redis://127.0.0.1:${port}`, keyPrefix, log: (l) => lines.push(l) });
    const b = open({ redisUrl: `redis://127.0.0.1:${port}`, keyPrefix, log: () => undefined });
    await eventually(async () => a.store() === "redis" && b.store() === "redis", 5_000, "both clients ready");
    expect(await hits(a, "ip:192.0.2.1", 3, 5)).toBe(3);
    expect(await hits(b, "ip:192.0.2.1", 3, 5)).toBe(2);

    await stopRedis(redis);
    await eventually(async () => a.store() !== "redis", 5_000, "the client to notice Redis went away");
    // Not fail-open: each replica still limits, in its own memory (the insurance limiter), and answers at once.
    const started = Date.now();
    expect(await hits(a, "ip:192.0.2.1", 8, 5)).toBe(5);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(lines.filter((l) => l.includes("Redis unreachable"))).toHaveLength(1);
    expect(lines.join("\n")).not.toContain("redis://");

    const again = await ownRedis(port);
    children.push(again);
    await eventually(async () => a.store() === "redis" && b.store() === "redis", 10_000, "both clients to reconnect");
    expect(lines.some((l) => l.includes("Redis reachable again"))).toBe(true);
    // The restarted Redis kept nothing: a fresh window, shared again by both replicas.
    expect((await hits(a, "ip:192.0.2.9", 3, 5)) + (await hits(b, "ip:192.0.2.9", 3, 5))).toBe(5);
  });
});
