import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { licenses } from "@/server/db/schema";
import { getLicenseDetail } from "@/server/domain/admin/licenses";
import { loadAdminLicenseRows } from "@/server/domain/admin/search";
import { loadLicenseView } from "@/server/domain/licensing/view";
import { validateLicense } from "@/server/domain/licensing/validate";
import { DAY_MS } from "@/server/domain/clock";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { makeLicense, makePlan } from "./helpers/factories";

/** The admin and portal views say what validate says, even before the expiry sweep has recorded anything. */
describe("license views and the expiry rule", () => {
  let database: TestDb;
  beforeAll(async () => {
    database = await createTestDatabase("view");
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("shows expired once expiry plus grace has passed, active inside the grace days", async () => {
    const plan = await makePlan(database.db, { graceDays: 3 });
    const lapsed = await makeLicense(database.db, { planId: plan.id, expiresAt: new Date(Date.now() - 4 * DAY_MS) });
    const inGrace = await makeLicense(database.db, { planId: plan.id, expiresAt: new Date(Date.now() - 2 * DAY_MS) });

    expect((await loadLicenseView(database.db, lapsed.license.id))!.status).toBe("expired");
    expect((await validateLicense(database.db, { key: lapsed.key })).code).toBe("EXPIRED");
    expect((await loadLicenseView(database.db, inGrace.license.id))!.status).toBe("active");
    expect((await validateLicense(database.db, { key: inGrace.key })).code).toBe("VALID");

    // The admin app's lists (search, a customer's licenses) say the same.
    const rows = await loadAdminLicenseRows(database.db, [inGrace.license.id, lapsed.license.id]);
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      [inGrace.license.id, "active"],
      [lapsed.license.id, "expired"],
    ]);
    expect((await getLicenseDetail(database.db, lapsed.license.id)).license.status).toBe("expired");
    expect((await getLicenseDetail(database.db, inGrace.license.id)).license.status).toBe("active");
  });

  it("keeps revoked and suspended as an admin left them, whatever the expiry", async () => {
    const plan = await makePlan(database.db);
    const { license } = await makeLicense(database.db, { planId: plan.id, expiresAt: new Date(Date.now() - 10 * DAY_MS) });
    await database.db.update(licenses).set({ status: "suspended" }).where(eq(licenses.id, license.id));
    expect((await loadLicenseView(database.db, license.id))!.status).toBe("suspended");
    expect((await loadAdminLicenseRows(database.db, [license.id]))[0]!.status).toBe("suspended");
    expect((await getLicenseDetail(database.db, license.id)).license.status).toBe("suspended");
  });
});
