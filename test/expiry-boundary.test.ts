import crypto from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root";
import type { AppSession } from "@/server/api/trpc";
import { licenses } from "@/server/db/schema";
import { getLicenseDetail } from "@/server/domain/admin/licenses";
import { SYSTEM } from "@/server/domain/audit/record";
import { DAY_MS, setClock } from "@/server/domain/clock";
import { effectiveStatus, isLapsed, lapsedSql, lapsesAt } from "@/server/domain/licensing/expiry";
import { activateLicense } from "@/server/domain/licensing/activate";
import { recordHeartbeat } from "@/server/domain/licensing/heartbeat";
import { ActivateLicenseInput } from "@/server/domain/licensing/inputs";
import { reinstateLicense, suspendLicense } from "@/server/domain/licensing/lifecycle";
import { ListLicensesQuery, listLicenses } from "@/server/domain/licensing/list";
import { validateLicense } from "@/server/domain/licensing/validate";
import { expireLicenses } from "@/server/domain/sweeps/expire";
import { ensureSigningKey } from "@/server/domain/tokens/keyring";
import { startApp, TEST_ADMIN_TOKEN, type TestApp } from "./helpers/app";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { makeCustomer, makeLicense, makePlan } from "./helpers/factories";
import { adminSession } from "./helpers/trpc";

// The expiry boundary, decided once (server/domain/licensing/expiry.ts): a license is expired from the
// millisecond expiresAt + grace days on, that instant included, by the app's clock. Each door is asked one
// millisecond before the lapse instant and at it, with the domain clock set to exactly those instants.

const GRACE = 3;
/** A lapse instant on a millisecond that is not a whole second, so no rounding to seconds can hide. */
const LAPSE = new Date("2031-05-10T09:30:00.123Z");
const EXPIRES = new Date(LAPSE.getTime() - GRACE * DAY_MS);
const BEFORE = new Date(LAPSE.getTime() - 1);
const at = (d: Date) => setClock(() => d);

let database: TestDb;
const db = () => database.db;
beforeAll(async () => {
  database = await createTestDatabase("expiry");
  await ensureSigningKey(database.db);
});
afterAll(async () => {
  setClock(undefined);
  await database?.drop();
});
afterEach(() => setClock(undefined));

async function lapsing() {
  const plan = await makePlan(db(), { graceDays: GRACE });
  const customer = await makeCustomer(db());
  const made = await makeLicense(db(), { planId: plan.id, customerId: customer.id, expiresAt: EXPIRES });
  return { ...made, plan, customer };
}
const storedStatus = async (id: string) => (await db().select().from(licenses).where(eq(licenses.id, id)))[0]!.status;

describe("the rule", () => {
  it("is lapsed at expiresAt + grace exactly, not a millisecond before; never when perpetual", () => {
    expect(lapsesAt(EXPIRES, GRACE).toISOString()).toBe(LAPSE.toISOString());
    expect(isLapsed(EXPIRES, GRACE, BEFORE)).toBe(false);
    expect(isLapsed(EXPIRES, GRACE, LAPSE)).toBe(true);
    expect(isLapsed(EXPIRES, GRACE, new Date(LAPSE.getTime() + 1))).toBe(true);
    expect(isLapsed(null, GRACE, new Date("2999-01-01T00:00:00Z"))).toBe(false);
    const facts = { expiresAt: EXPIRES, graceDays: GRACE };
    expect(effectiveStatus({ ...facts, status: "past_due" }, LAPSE)).toBe("expired");
    expect(effectiveStatus({ ...facts, status: "past_due" }, BEFORE)).toBe("past_due");
    expect(effectiveStatus({ ...facts, status: "suspended" }, LAPSE)).toBe("suspended");
    expect(effectiveStatus({ ...facts, status: "revoked" }, LAPSE)).toBe("revoked");
  });

  it("says the same in SQL as in TypeScript, for stored microseconds and whatever the session's time zone", async () => {
    // Expiries a JS Date cannot hold (microseconds), next to whole ones; US daylight saving starts on
    // 2031-03-09, inside the grace days of the first group, so a calendar "day" there would be 23 hours.
    const bases = ["2031-03-07T12:00:00.123", "2031-06-01T00:00:00.000"];
    const micros = [0, 1, 499, 500, 999];
    const plan = await makePlan(db(), { graceDays: GRACE });
    const ids: string[] = [];
    for (const base of bases) {
      for (const us of micros) {
        const { license } = await makeLicense(db(), { planId: plan.id, expiresAt: new Date(`${base}Z`) });
        await db().execute(sql`update ${licenses} set expires_at = ${`${base}Z`}::timestamptz + ${`${us} microseconds`}::interval where id = ${license.id}`);
        ids.push(license.id);
      }
    }
    const rows = await db().select({ id: licenses.id, expiresAt: licenses.expiresAt }).from(licenses).where(inArray(licenses.id, ids));
    expect(rows).toHaveLength(ids.length);
    let lapsedSeen = 0;
    for (const zone of ["UTC", "America/New_York"]) {
      await db().transaction(async (tx) => {
        await tx.execute(sql.raw(`set local time zone '${zone}'`));
        for (const row of rows) {
          const lapse = lapsesAt(row.expiresAt!, GRACE).getTime();
          // Around the lapse instant as TypeScript reads it, and an hour early (where a 23-hour "day" would land).
          for (const t of [lapse - 3_600_000, lapse - 1, lapse, lapse + 1]) {
            const when = new Date(t);
            const [fromSql] = (
              await tx.execute<{ lapsed: boolean }>(
                sql`select ${lapsedSql({ expiresAt: sql`l.expires_at`, graceDays: sql`p.grace_days` }, when)} as lapsed
                      from ${licenses} l join plans p on p.id = l.plan_id where l.id = ${row.id}`,
              )
            ).rows;
            expect(fromSql!.lapsed, `${zone} ${row.expiresAt!.toISOString()} at ${when.toISOString()}`).toBe(isLapsed(row.expiresAt, GRACE, when));
            if (fromSql!.lapsed) lapsedSeen++;
          }
        }
      });
    }
    // Half of the instants asked about are at or past the lapse: the comparison was not all one answer.
    expect(lapsedSeen).toBe(2 * rows.length * 2);
  });
});

describe("every door at the boundary", () => {
  it("validate: VALID a millisecond before, EXPIRED at the lapse instant", async () => {
    const { key } = await lapsing();
    at(BEFORE);
    expect(await validateLicense(db(), { key })).toMatchObject({ valid: true, code: "VALID", license: { status: "active" } });
    at(LAPSE);
    expect(await validateLicense(db(), { key })).toMatchObject({ valid: false, code: "EXPIRED", license: { status: "expired" } });
  });

  it("activate and heartbeat: a token a millisecond before, 403 EXPIRED at the lapse instant", async () => {
    const early = await lapsing();
    const late = await lapsing();
    at(BEFORE);
    await expect(activateLicense(db(), ActivateLicenseInput.parse({ key: early.key, fingerprint: "m-1" }))).resolves.toMatchObject({ token: expect.any(String) });
    await expect(recordHeartbeat(db(), { key: early.key, fingerprint: "m-1" })).resolves.toMatchObject({ license: { status: "active" } });
    await activateLicense(db(), ActivateLicenseInput.parse({ key: late.key, fingerprint: "m-1" }));
    at(LAPSE);
    await expect(recordHeartbeat(db(), { key: early.key, fingerprint: "m-1" })).rejects.toMatchObject({ code: "EXPIRED" });
    await expect(activateLicense(db(), ActivateLicenseInput.parse({ key: late.key, fingerprint: "m-2" }))).rejects.toMatchObject({ code: "EXPIRED" });
  });

  it("the sweep: leaves the license a millisecond before, marks it expired at the lapse instant", async () => {
    const { license } = await lapsing();
    at(BEFORE);
    await expireLicenses(db());
    expect(await storedStatus(license.id)).toBe("active");
    at(LAPSE);
    await expireLicenses(db());
    expect(await storedStatus(license.id)).toBe("expired");
  });

  it("the portal: active a millisecond before, expired at the lapse instant", async () => {
    const { license, customer } = await lapsing();
    const session: AppSession = { user: { id: crypto.randomUUID(), email: customer.email, isAdmin: false }, customerId: customer.id };
    const portal = createCaller({ db: db(), session, headers: new Headers() }).portal;
    at(BEFORE);
    expect((await portal.licenses()).find((l) => l.id === license.id)?.status).toBe("active");
    at(LAPSE);
    expect((await portal.licenses()).find((l) => l.id === license.id)?.status).toBe("expired");
  });

  it("the admin lists: the status filter moves the license from active to expired at the lapse instant", async () => {
    const { license, customer } = await lapsing();
    const admin = createCaller({ db: db(), session: adminSession("boundary@example.com"), headers: new Headers() }).licenses;
    const search = async (status: "active" | "expired") =>
      (await admin.search({ status, customerId: customer.id })).data.map((r) => [r.id, r.status]);
    const list = async (status: "active" | "expired") =>
      (await listLicenses(db(), ListLicensesQuery.parse({ status, email: customer.email }))).data.map((r) => [r.id, r.status]);

    at(BEFORE);
    expect(await search("active")).toEqual([[license.id, "active"]]);
    expect(await search("expired")).toEqual([]);
    expect(await list("active")).toEqual([[license.id, "active"]]);
    expect(await list("expired")).toEqual([]);
    expect((await getLicenseDetail(db(), license.id)).license.status).toBe("active");
    at(LAPSE);
    // Nothing swept it: its stored status is still active, yet every list says what validate says.
    expect(await storedStatus(license.id)).toBe("active");
    expect(await search("active")).toEqual([]);
    expect(await search("expired")).toEqual([[license.id, "expired"]]);
    expect(await list("active")).toEqual([]);
    expect(await list("expired")).toEqual([[license.id, "expired"]]);
    expect((await getLicenseDetail(db(), license.id)).license.status).toBe("expired");
  });

  it("an admin's reinstatement: back to active a millisecond before, straight to expired at the lapse instant", async () => {
    const early = await lapsing();
    const late = await lapsing();
    for (const l of [early, late]) await db().transaction((tx) => suspendLicense(tx, SYSTEM, l.license.id, {}));
    at(BEFORE);
    await db().transaction((tx) => reinstateLicense(tx, SYSTEM, early.license.id, {}));
    at(LAPSE);
    await db().transaction((tx) => reinstateLicense(tx, SYSTEM, late.license.id, {}));
    expect(await storedStatus(early.license.id)).toBe("active");
    expect(await storedStatus(late.license.id)).toBe("expired");
  });
});

describe("over HTTP, by the app's own clock", () => {
  let app: TestApp;
  beforeAll(async () => {
    // No worker: nothing may sweep the licenses, so the answers come from the rule alone. No rate limit: the
    // straddling test asks many times in a row.
    app = await startApp({ database, env: { WORKER: "off", RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
  });

  it("validate and the management API's list agree on a lapsed license the sweep has not reached", async () => {
    const plan = await makePlan(db(), { graceDays: 1 });
    const customer = await makeCustomer(db());
    const { license, key } = await makeLicense(db(), { planId: plan.id, customerId: customer.id, expiresAt: new Date(Date.now() - DAY_MS - 60_000) });
    expect((await app.post("/api/v1/licenses/validate", { key })).body).toMatchObject({ valid: false, code: "EXPIRED" });
    const list = async (status: string) =>
      (await app.get(`/api/v1/admin/licenses?status=${status}&email=${encodeURIComponent(customer.email)}`, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` })).body;
    expect((await list("expired")).data.map((l: { id: string; status: string }) => [l.id, l.status])).toEqual([[license.id, "expired"]]);
    expect((await list("active")).data).toEqual([]);
    expect(await storedStatus(license.id)).toBe("active");
  });

  it("validate turns EXPIRED at the lapse instant: every answer received before it is VALID, every question sent at or after it EXPIRED", async () => {
    // The app reads its clock while it answers, so its instant lies between our send and our receipt (one
    // machine, one wall clock). Answers that straddle the lapse instant prove nothing and are not judged; the
    // others bracket the boundary to within one round trip. If the machine is so loaded that no answer came back
    // before the lapse, the attempt is repeated with more time.
    for (let attempt = 0, lead = 1500; ; attempt++, lead *= 2) {
      const plan = await makePlan(db(), { graceDays: 1 });
      const lapse = Date.now() + lead;
      const { key } = await makeLicense(db(), { planId: plan.id, expiresAt: new Date(lapse - DAY_MS) });
      const answers: { sent: number; received: number; code: string }[] = [];
      for (;;) {
        const sent = Date.now();
        const { body } = await app.post("/api/v1/licenses/validate", { key });
        answers.push({ sent, received: Date.now(), code: body.code });
        if (sent >= lapse) break;
      }
      const before = answers.filter((a) => a.received < lapse);
      const after = answers.filter((a) => a.sent >= lapse);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((a) => a.code === "EXPIRED"), JSON.stringify(after)).toBe(true);
      expect(before.every((a) => a.code === "VALID"), JSON.stringify(before.slice(-3))).toBe(true);
      if (before.length > 0) break;
      expect(attempt, "no answer came back before the lapse instant, however long the lead").toBeLessThan(4);
    }
  }, 120_000);
});
