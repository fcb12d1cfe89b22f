import { eq, inArray, sql } from "drizzle-orm";
import { Logger, parseCrontab, runOnce } from "graphile-worker";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeDb } from "@/server/db/client";
import { activations, auditLog, emailOutbox, licenseNotices, licenses } from "@/server/db/schema";
import { addDays, setClock } from "@/server/domain/clock";
import { applyLicenseAction } from "@/server/domain/licensing/lifecycle";
import { runBatches } from "@/server/domain/sweeps/batch";
import { expireLicenses } from "@/server/domain/sweeps/expire";
import { freeLapsedSeats } from "@/server/domain/sweeps/floating-seats";
import { sendReminders } from "@/server/domain/sweeps/reminders";
import { crontab } from "@/server/jobs/crontab";
import { taskList } from "@/server/jobs/tasks";
import { resetEnvCache } from "@/server/env";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { makeLicense, makePlan } from "./helpers/factories";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

// The sweeps, called directly with the injectable clock (never sleeping), against a real PostgreSQL.
// Concurrency claims are exercised with sweeps running at once on separate connections.

let database: TestDb;
const db = () => database.db;
const T0 = new Date("2031-01-01T00:00:00Z");
const HOUR = 3_600_000;
const ADMIN = { type: "admin", id: "owner@example.com" } as const;
const quietLogger = new Logger(() => () => undefined);

beforeAll(async () => {
  database = await createTestDatabase("sweeps");
  await useProcessDatabase(database.url);
});

afterAll(async () => {
  setClock(undefined);
  await closeDb();
  await database?.drop();
});

// Sweeps look at every license: each test starts from an empty database at T0.
beforeEach(async () => {
  await db().execute(sql`truncate products, customers, email_outbox, audit_log cascade`);
  await db().execute(sql`delete from graphile_worker._private_jobs`);
  at(T0);
});

afterEach(() => setClock(undefined));

function at(d: Date) {
  setClock(() => d);
}

type Spec = {
  expiresAt: Date | null;
  graceDays?: number;
  status?: "active" | "past_due" | "suspended" | "revoked" | "expired";
  autoRenews?: boolean;
  cancelAt?: Date | null;
  trialEndsAt?: Date | null;
  heartbeatWindowSeconds?: number | null;
};

async function license(spec: Spec) {
  const plan = await makePlan(db(), { graceDays: spec.graceDays ?? 0, heartbeatWindowSeconds: spec.heartbeatWindowSeconds ?? null, seats: 5 });
  const { license } = await makeLicense(db(), { planId: plan.id, expiresAt: spec.expiresAt });
  const [row] = await db()
    .update(licenses)
    .set({
      status: spec.status ?? "active",
      autoRenews: spec.autoRenews ?? false,
      cancelAt: spec.cancelAt ?? null,
      trialEndsAt: spec.trialEndsAt ?? null,
    })
    .where(eq(licenses.id, license.id))
    .returning();
  return row!;
}

const statusOf = async (id: string) => (await db().select().from(licenses).where(eq(licenses.id, id)))[0]!.status;

async function emails(template: string, licenseId?: string) {
  const rows = await db().select().from(emailOutbox).where(eq(emailOutbox.template, template));
  return rows.filter((r) => !licenseId || (r.props as { licenseId: string }).licenseId === licenseId);
}

const notices = (licenseId: string) =>
  db()
    .select({ kind: licenseNotices.kind, forDate: licenseNotices.forDate, outboxId: licenseNotices.outboxId })
    .from(licenseNotices)
    .where(eq(licenseNotices.licenseId, licenseId));

const audits = (action: string) => db().select().from(auditLog).where(eq(auditLog.action, action));

describe("expire sweep", () => {
  it("expires active and past-due licenses past expiry plus grace: status, audit row and one email each", async () => {
    const gone = await license({ expiresAt: addDays(T0, -4), graceDays: 3 });
    const inGrace = await license({ expiresAt: addDays(T0, -2), graceDays: 3 });
    const pastDue = await license({ expiresAt: addDays(T0, -10), status: "past_due" });
    const suspended = await license({ expiresAt: addDays(T0, -30), status: "suspended" });
    const revoked = await license({ expiresAt: addDays(T0, -30), status: "revoked" });
    const perpetual = await license({ expiresAt: null });
    const future = await license({ expiresAt: addDays(T0, 5) });

    expect(await expireLicenses(db())).toEqual({ processed: 2, more: false });
    expect(await statusOf(gone.id)).toBe("expired");
    expect(await statusOf(pastDue.id)).toBe("expired");
    for (const l of [inGrace, future, perpetual]) expect(await statusOf(l.id)).toBe("active");
    expect(await statusOf(suspended.id)).toBe("suspended");
    expect(await statusOf(revoked.id)).toBe("revoked");

    const rows = await audits("license.expired");
    expect(rows.map((r) => r.subjectId).sort()).toEqual([gone.id, pastDue.id].sort());
    const goneAudit = rows.find((r) => r.subjectId === gone.id)!;
    expect(goneAudit).toMatchObject({ actorType: "system", before: { status: "active" }, after: { status: "expired" } });
    expect(goneAudit.metadata).toMatchObject({ via: "sweep", graceDays: 3 });

    const [email] = await emails("license-expired", gone.id);
    expect(email).toMatchObject({
      dedupeKey: `license-expired:${gone.id}:${gone.expiresAt!.toISOString()}`,
      props: { licenseId: gone.id, expiredAt: addDays(gone.expiresAt!, 3).toISOString() },
      status: "pending",
    });
    expect(await emails("license-expired")).toHaveLength(2);

    // Running again changes nothing and owes nothing more.
    expect(await expireLicenses(db())).toEqual({ processed: 0, more: false });
    expect(await emails("license-expired")).toHaveLength(2);

    // Two days later the one in grace has run out too.
    at(addDays(T0, 2));
    expect(await expireLicenses(db())).toEqual({ processed: 1, more: false });
    expect(await statusOf(inGrace.id)).toBe("expired");
  });

  it("an extended license that expires again owes a second email (a new expiry), never a third", async () => {
    const l = await license({ expiresAt: addDays(T0, -1) });
    await expireLicenses(db());
    await db().transaction((tx) => applyLicenseAction(tx, ADMIN, l.id, "extend", { expiresAt: addDays(T0, 10).toISOString() }));
    expect(await statusOf(l.id)).toBe("active");

    at(addDays(T0, 11));
    await expireLicenses(db());
    await expireLicenses(db());
    expect(await statusOf(l.id)).toBe("expired");
    expect((await emails("license-expired", l.id)).map((e) => e.dedupeKey).sort()).toEqual(
      [`license-expired:${l.id}:${addDays(T0, -1).toISOString()}`, `license-expired:${l.id}:${addDays(T0, 10).toISOString()}`].sort(),
    );
  });

  it("works in batches: a batch never takes more than its limit, and runBatches goes on until done", async () => {
    for (let i = 0; i < 7; i++) await license({ expiresAt: addDays(T0, -1 - i) });
    expect(await expireLicenses(db(), { limit: 3 })).toEqual({ processed: 3, more: true });
    expect(await runBatches(() => expireLicenses(db(), { limit: 3 }))).toBe(4);
    expect(await emails("license-expired")).toHaveLength(7);
  });

  it("two sweeps at once split the work: every license expired once, one email each", async () => {
    const due = await Promise.all(Array.from({ length: 60 }, (_, i) => license({ expiresAt: addDays(T0, -1 - (i % 5)) })));
    const [a, b] = await Promise.all([
      runBatches(() => expireLicenses(db(), { limit: 7 })),
      runBatches(() => expireLicenses(db(), { limit: 7 })),
    ]);
    expect(a + b).toBe(60);
    const rows = await audits("license.expired");
    expect(rows).toHaveLength(60);
    expect(new Set(rows.map((r) => r.subjectId)).size).toBe(60);
    expect(await emails("license-expired")).toHaveLength(60);
    for (const l of due) expect(await statusOf(l.id)).toBe("expired");
  });
});

describe("reminder sweep", () => {
  it("reminds 7 and 1 days before expiry, once each, only licenses that will not renew by themselves", async () => {
    const expiresAt = addDays(T0, 10);
    const manual = await license({ expiresAt });
    const renewing = await license({ expiresAt, autoRenews: true });
    const cancelling = await license({ expiresAt, autoRenews: true, cancelAt: expiresAt });
    const suspended = await license({ expiresAt, status: "suspended" });

    expect(await sendReminders(db())).toMatchObject({ expiring: 0, trialEnding: 0 });

    at(new Date(expiresAt.getTime() - 6.5 * 86_400_000));
    expect(await sendReminders(db())).toMatchObject({ expiring: 2, more: false });
    expect(await sendReminders(db())).toMatchObject({ expiring: 0 });

    at(new Date(expiresAt.getTime() - 12 * HOUR));
    expect(await sendReminders(db())).toMatchObject({ expiring: 2 });
    expect(await sendReminders(db())).toMatchObject({ expiring: 0 });

    at(new Date(expiresAt.getTime() + HOUR));
    expect(await sendReminders(db())).toMatchObject({ expiring: 0 });

    for (const l of [manual, cancelling]) {
      const sent = await notices(l.id);
      expect(sent.map((n) => n.kind).sort()).toEqual(["expiring:1", "expiring:7"]);
      expect(sent.every((n) => n.forDate.getTime() === expiresAt.getTime() && n.outboxId)).toBe(true);
      const owed = await emails("license-expiring", l.id);
      expect(owed).toHaveLength(2);
      expect(owed.map((e) => e.props)).toEqual([
        { licenseId: l.id, expiresAt: expiresAt.toISOString() },
        { licenseId: l.id, expiresAt: expiresAt.toISOString() },
      ]);
      expect(owed.map((e) => e.id).sort()).toEqual(sent.map((n) => n.outboxId).sort());
    }
    for (const l of [renewing, suspended]) {
      expect(await notices(l.id)).toEqual([]);
      expect(await emails("license-expiring", l.id)).toEqual([]);
    }
  });

  it("a license first seen inside the last threshold gets only that reminder, not every one it missed", async () => {
    const l = await license({ expiresAt: new Date(T0.getTime() + 12 * HOUR) });
    await sendReminders(db());
    expect((await notices(l.id)).map((n) => n.kind)).toEqual(["expiring:1"]);
    expect(await emails("license-expiring", l.id)).toHaveLength(1);
  });

  it("remembers a reminder for an expiry stored with microseconds (a done license is not picked up again)", async () => {
    const l = await license({ expiresAt: addDays(T0, 6) });
    await db().execute(sql`update licenses set expires_at = '2031-01-06T00:00:00.123456Z' where id = ${l.id}`);
    expect(await sendReminders(db(), { limit: 1 })).toMatchObject({ expiring: 1, more: true });
    expect(await sendReminders(db(), { limit: 1 })).toEqual({ processed: 0, expiring: 0, trialEnding: 0, more: false });
    const [notice] = await notices(l.id);
    expect(notice!.outboxId).toEqual(expect.any(String));
  });

  it("follows EXPIRY_REMINDER_DAYS", async () => {
    process.env.EXPIRY_REMINDER_DAYS = "30, 3";
    resetEnvCache();
    try {
      const l = await license({ expiresAt: addDays(T0, 20) });
      await sendReminders(db());
      at(addDays(T0, 17.5));
      await sendReminders(db());
      expect((await notices(l.id)).map((n) => n.kind).sort()).toEqual(["expiring:3", "expiring:30"]);
    } finally {
      delete process.env.EXPIRY_REMINDER_DAYS;
      resetEnvCache();
    }
  });

  it("a new expiry date gets its own reminders", async () => {
    const first = addDays(T0, 5);
    const l = await license({ expiresAt: first });
    await sendReminders(db());
    const second = addDays(T0, 40);
    await db().transaction((tx) => applyLicenseAction(tx, ADMIN, l.id, "extend", { expiresAt: second.toISOString() }));
    at(addDays(second, -6));
    await sendReminders(db());
    const sent = await notices(l.id);
    expect(sent.map((n) => [n.kind, n.forDate.toISOString()]).sort()).toEqual([
      ["expiring:7", first.toISOString()],
      ["expiring:7", second.toISOString()],
    ]);
    expect(await emails("license-expiring", l.id)).toHaveLength(2);
  });

  it("a trial gets one trial-ending notice 3 days before it ends, and no expiry reminders meanwhile", async () => {
    const trialEndsAt = addDays(T0, 5);
    const l = await license({ expiresAt: trialEndsAt, trialEndsAt });
    expect(await sendReminders(db())).toMatchObject({ trialEnding: 0, expiring: 0 });

    at(addDays(T0, 2.5));
    expect(await sendReminders(db())).toMatchObject({ trialEnding: 1, expiring: 0 });
    at(addDays(T0, 4.5));
    expect(await sendReminders(db())).toMatchObject({ trialEnding: 0, expiring: 0 });

    expect(await notices(l.id)).toEqual([{ kind: "trial-ending", forDate: trialEndsAt, outboxId: expect.any(String) }]);
    const [email] = await emails("trial-ending", l.id);
    expect(email!.props).toEqual({ licenseId: l.id, trialEndsAt: trialEndsAt.toISOString() });
    expect(await emails("license-expiring", l.id)).toEqual([]);
  });

  it("two sweeps racing (and each running to the end) owe every reminder exactly once", async () => {
    const due = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        i % 4 === 0
          ? license({ expiresAt: addDays(T0, 10), trialEndsAt: addDays(T0, 2) })
          : license({ expiresAt: addDays(T0, 3 + (i % 3)) }),
      ),
    );
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => runBatches(() => sendReminders(db(), { limit: 9 }))),
    );
    expect(runs.reduce((a, b) => a + b, 0)).toBe(120);

    const rows = await db().select().from(licenseNotices).where(inArray(licenseNotices.licenseId, due.map((l) => l.id)));
    expect(rows).toHaveLength(120);
    expect(new Set(rows.map((r) => r.licenseId)).size).toBe(120);
    const owed = [...(await emails("license-expiring")), ...(await emails("trial-ending"))];
    expect(owed).toHaveLength(120);
    expect(new Set(owed.map((e) => (e.props as { licenseId: string }).licenseId)).size).toBe(120);

    // And once more, all at once, after the fact: nothing.
    const again = await Promise.all([sendReminders(db()), sendReminders(db())]);
    expect(again.map((r) => r.processed)).toEqual([0, 0]);
  });
});

describe("floating-seat sweep", () => {
  const WINDOW = 600;

  async function activation(licenseId: string, fingerprint: string, lastSeenAt: Date) {
    const [row] = await db().insert(activations).values({ licenseId, fingerprint, lastSeenAt, createdAt: lastSeenAt }).returning();
    return row!;
  }
  const fingerprints = async (licenseId: string) =>
    (await db().select().from(activations).where(eq(activations.licenseId, licenseId))).map((a) => a.fingerprint).sort();

  it("frees activations silent for longer than the plan's heartbeat window, with an audit row; others stay", async () => {
    const floating = await license({ expiresAt: null, heartbeatWindowSeconds: WINDOW });
    const fixed = await license({ expiresAt: null });
    await activation(floating.id, "silent", new Date(T0.getTime() - (WINDOW + 100) * 1000));
    await activation(floating.id, "recent", new Date(T0.getTime() - 100 * 1000));
    await activation(fixed.id, "old-but-fixed", addDays(T0, -30));

    expect(await freeLapsedSeats(db())).toEqual({ processed: 1, more: false });
    expect(await fingerprints(floating.id)).toEqual(["recent"]);
    expect(await fingerprints(fixed.id)).toEqual(["old-but-fixed"]);

    const [row] = await audits("activation.lapsed");
    expect(row).toMatchObject({ subjectType: "license", subjectId: floating.id, actorType: "system" });
    expect(row!.metadata).toMatchObject({ via: "sweep", heartbeatWindowSeconds: WINDOW });
    expect((row!.before as { activations: Array<{ fingerprint: string }> }).activations.map((a) => a.fingerprint)).toEqual(["silent"]);

    expect(await freeLapsedSeats(db())).toEqual({ processed: 0, more: false });
    at(new Date(T0.getTime() + WINDOW * 1000));
    expect(await freeLapsedSeats(db())).toEqual({ processed: 1, more: false });
    expect(await fingerprints(floating.id)).toEqual([]);
  });

  it("passes over a license whose activation is in progress (it holds the license lock), and frees it next time", async () => {
    const l = await license({ expiresAt: null, heartbeatWindowSeconds: WINDOW });
    await activation(l.id, "silent", addDays(T0, -1));

    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db().transaction(async (tx) => {
      await tx.select().from(licenses).where(eq(licenses.id, l.id)).for("update");
      locked();
      await held;
    });
    await isLocked;
    expect(await freeLapsedSeats(db())).toEqual({ processed: 0, more: false });
    expect(await fingerprints(l.id)).toEqual(["silent"]);
    release();
    await holder;
    expect(await freeLapsedSeats(db())).toEqual({ processed: 1, more: false });
  });

  it("two sweeps at once free each lapsed activation once", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const l = await license({ expiresAt: null, heartbeatWindowSeconds: WINDOW });
      ids.push(l.id);
      await activation(l.id, "a", addDays(T0, -1));
      await activation(l.id, "b", addDays(T0, -2));
      await activation(l.id, "fresh", T0);
    }
    const [a, b] = await Promise.all([
      runBatches(() => freeLapsedSeats(db(), { limit: 15 })),
      runBatches(() => freeLapsedSeats(db(), { limit: 15 })),
    ]);
    expect(a + b).toBe(80);
    const remaining = await db().select().from(activations).where(inArray(activations.licenseId, ids));
    expect(remaining.map((r) => r.fingerprint)).toEqual(Array(40).fill("fresh"));
    const lapsed = (await audits("activation.lapsed")).flatMap(
      (r) => (r.before as { activations: Array<{ id: string }> }).activations.map((x) => x.id),
    );
    expect(lapsed).toHaveLength(80);
    expect(new Set(lapsed).size).toBe(80);
  });
});

describe("the sweeps as worker tasks", () => {
  let catcher: SmtpCatcher;
  beforeAll(async () => {
    catcher = await startSmtpCatcher();
  });
  afterAll(async () => {
    delete process.env.SMTP_URL;
    resetEnvCache();
    await catcher?.stop();
  });

  it("the crontab schedules every sweep, and each names a task of the task list", () => {
    const items = parseCrontab(crontab);
    const tasks = items.map((i) => i.task);
    for (const task of ["sweep_expire", "sweep_reminders", "sweep_floating_seats"]) {
      expect(tasks).toContain(task);
      expect(taskList[task]).toBeTypeOf("function");
    }
  });

  it("a cron-started run expires a license and the customer's email reaches SMTP", async () => {
    process.env.SMTP_URL = catcher.url;
    resetEnvCache();
    const l = await license({ expiresAt: addDays(T0, -1) });
    const notDue = await license({ expiresAt: addDays(T0, 1) });
    // What the crontab adds each minute: the task with graphile-worker's _cron payload.
    await database.pool.query(`select graphile_worker.add_job('sweep_expire', '{"_cron":{"ts":"${T0.toISOString()}","backfilled":false}}'::json)`);
    await runOnce({ pgPool: database.pool, taskList, logger: quietLogger });

    expect(await statusOf(l.id)).toBe("expired");
    expect(await statusOf(notDue.id)).toBe("active");
    const message = await catcher.waitFor(1);
    expect(message.subject).toMatch(/license has expired$/);
    const [email] = await emails("license-expired", l.id);
    expect(email!.status).toBe("sent");
    const left = await database.pool.query("select count(*)::int as n from graphile_worker._private_jobs");
    expect(left.rows[0].n).toBe(0);
  });

  it("runs the reminder and floating-seat tasks through the worker too", async () => {
    const l = await license({ expiresAt: addDays(T0, 6) });
    const floating = await license({ expiresAt: null, heartbeatWindowSeconds: 60 });
    await db().insert(activations).values({ licenseId: floating.id, fingerprint: "gone", lastSeenAt: addDays(T0, -1) });
    await database.pool.query(`select graphile_worker.add_job('sweep_reminders', '{}'::json)`);
    await database.pool.query(`select graphile_worker.add_job('sweep_floating_seats', '{}'::json)`);
    await runOnce({ pgPool: database.pool, taskList, logger: quietLogger });
    expect((await notices(l.id)).map((n) => n.kind)).toEqual(["expiring:7"]);
    expect(await db().select().from(activations).where(eq(activations.licenseId, floating.id))).toEqual([]);
  });
});
