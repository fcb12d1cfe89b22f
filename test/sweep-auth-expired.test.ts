import crypto from "node:crypto";
import { inArray } from "drizzle-orm";
import { Logger, parseCrontab, runOnce } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSessionToken } from "@/server/auth/hashed-adapter";
import { closeDb } from "@/server/db/client";
import { idempotencyKeys, sessions, users, verificationTokens } from "@/server/db/schema";
import { deleteExpiredAuthRows } from "@/server/domain/sweeps/auth-expired";
import { crontab } from "@/server/jobs/crontab";
import { taskList } from "@/server/jobs/tasks";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";

// Expired sessions and sign-in links are deleted by a crontab task, in bounded batches, against a real PostgreSQL.

let database: TestDb;
const quietLogger = new Logger(() => () => undefined);
const HOUR = 3_600_000;

beforeAll(async () => {
  database = await createTestDatabase("authsweep");
  await useProcessDatabase(database.url);
});
afterAll(async () => {
  await closeDb();
  await database?.drop();
});

/** `count` sessions and as many sign-in links, expiring `offsetMs` from now; returns their keys. */
async function seed(count: number, offsetMs: number) {
  const [user] = await database.db.insert(users).values({ email: `sweep-${crypto.randomBytes(4).toString("hex")}@example.com` }).returning();
  const expires = new Date(Date.now() + offsetMs);
  const sessionRows = Array.from({ length: count }, () => ({ sessionToken: hashSessionToken(crypto.randomUUID()), userId: user!.id, expires }));
  const linkRows = Array.from({ length: count }, () => ({ identifier: user!.email, token: crypto.randomBytes(32).toString("hex"), expires }));
  await database.db.insert(sessions).values(sessionRows);
  await database.db.insert(verificationTokens).values(linkRows);
  return { sessions: sessionRows.map((r) => r.sessionToken), links: linkRows.map((r) => r.token) };
}

async function left(keys: { sessions: string[]; links: string[] }) {
  const s = await database.db.select().from(sessions).where(inArray(sessions.sessionToken, keys.sessions));
  const l = await database.db.select().from(verificationTokens).where(inArray(verificationTokens.token, keys.links));
  return { sessions: s.length, links: l.length };
}

describe("the expired sign-in sweep", () => {
  it("is on the crontab and names a task of the task list", () => {
    const item = parseCrontab(crontab).find((i) => i.task === "sweep_auth_expired");
    expect(item).toBeDefined();
    expect(taskList[item!.task]).toBeTypeOf("function");
  });

  it("deletes at most one batch per call, and says when more is left", async () => {
    const expired = await seed(5, -HOUR);
    const first = await deleteExpiredAuthRows(database.db, { limit: 2 });
    expect(first).toEqual({ processed: 4, more: true });
    expect(await left(expired)).toEqual({ sessions: 3, links: 3 });
    await deleteExpiredAuthRows(database.db, { limit: 2 });
    const last = await deleteExpiredAuthRows(database.db, { limit: 2 });
    expect(last).toEqual({ processed: 2, more: false });
    expect(await left(expired)).toEqual({ sessions: 0, links: 0 });
  });

  it("also deletes management API idempotency keys past their 24 hours, keeping younger ones", async () => {
    const row = (key: string, ageMs: number) => ({
      actor: "api_token:bootstrap",
      key,
      method: "POST",
      path: "/api/v1/admin/licenses",
      bodyHash: "0".repeat(64),
      status: 201,
      response: { ok: true },
      createdAt: new Date(Date.now() - ageMs),
      completedAt: new Date(Date.now() - ageMs),
    });
    const tag = crypto.randomBytes(4).toString("hex");
    await database.db.insert(idempotencyKeys).values([row(`${tag}-old`, 25 * HOUR), row(`${tag}-young`, 23 * HOUR)]);
    while ((await deleteExpiredAuthRows(database.db)).more);
    const keys = (await database.db.select({ key: idempotencyKeys.key }).from(idempotencyKeys)).map((r) => r.key);
    expect(keys).toContain(`${tag}-young`);
    expect(keys).not.toContain(`${tag}-old`);
  });

  it("a cron-started run deletes expired sessions and sign-in links and keeps live ones", async () => {
    const expired = await seed(3, -1000);
    const live = await seed(3, HOUR);
    await database.pool.query(`select graphile_worker.add_job('sweep_auth_expired', '{"_cron":{"ts":"${new Date().toISOString()}","backfilled":false}}'::json)`);
    await runOnce({ pgPool: database.pool, taskList, logger: quietLogger });

    expect(await left(expired)).toEqual({ sessions: 0, links: 0 });
    expect(await left(live)).toEqual({ sessions: 3, links: 3 });
    const jobs = await database.pool.query("select count(*)::int as n, max(last_error) as error from graphile_worker._private_jobs");
    expect(jobs.rows[0]).toEqual({ n: 0, error: null });
  });
});
