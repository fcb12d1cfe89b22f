import crypto from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "@/server/api/root";
import { auditLog, customers, emailOutbox, licenses, payments, planPrices, stripeEvents } from "@/server/db/schema";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { adminSession, appCode } from "./helpers/trpc";
import { makeCustomer, makeLicense, makePlan } from "./helpers/factories";

// Products, plans and customers in the admin app, through the tRPC router with an admin session.

const ADMIN_EMAIL = "catalog-admin@example.com";
const admin = adminSession(ADMIN_EMAIL);
const uniq = () => crypto.randomBytes(3).toString("hex");

let database: TestDb;
const caller = () => createCaller({ db: database.db, session: admin, headers: new Headers() });

beforeAll(async () => {
  database = await createTestDatabase("admincat");
});
afterAll(async () => {
  await database?.drop();
});


const audits = (subjectType: string, subjectId: string) =>
  database.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.subjectType, subjectType), eq(auditLog.subjectId, subjectId)))
    .orderBy(auditLog.id);

describe("products and plans", () => {
  it("creates, edits and retires a product and a plan, each change audited with before and after", async () => {
    const s = uniq();
    const c = caller();
    const product = await c.catalog.createProduct({ slug: `studio-${s}`, name: "Studio" });
    const plan = await c.catalog.createPlan({
      product: product.slug,
      slug: `studio-pro-${s}`,
      name: "Pro",
      seats: 3,
      durationDays: 365,
      entitlements: ["export"],
      stripePriceIds: [`price_${s}_a`, `price_${s}_b`],
      graceDays: 7,
      offlineTokenTtlSeconds: 86_400,
      heartbeatWindowSeconds: 3600,
    });
    expect(plan).toMatchObject({ seats: 3, graceDays: 7, offlineTokenTtlSeconds: 86_400, heartbeatWindowSeconds: 3600 });

    const renamed = await c.catalog.updateProduct({ product: product.slug, name: "Studio 2" });
    expect(renamed.name).toBe("Studio 2");

    const edited = await c.catalog.updatePlan({
      plan: plan.slug,
      name: "Pro (yearly)",
      seats: 5,
      durationDays: null,
      entitlements: ["export", "sync", "sync"],
      stripePriceIds: [`price_${s}_b`, `price_${s}_c`],
      heartbeatWindowSeconds: null,
    });
    expect(edited).toMatchObject({
      name: "Pro (yearly)",
      seats: 5,
      durationDays: null,
      graceDays: 7,
      entitlements: ["export", "sync"],
      stripePriceIds: [`price_${s}_b`, `price_${s}_c`],
      heartbeatWindowSeconds: null,
      offlineTokenTtlSeconds: 86_400,
    });
    const bound = await database.db.select().from(planPrices).where(eq(planPrices.planId, plan.id));
    expect(bound.map((b) => b.stripePriceId).sort()).toEqual([`price_${s}_b`, `price_${s}_c`]);

    const retired = await c.catalog.setPlanRetired({ plan: plan.slug, retired: true });
    expect(retired.archivedAt).not.toBeNull();
    // A retired plan issues nothing by hand.
    expect(await appCode(c.licenses.issue({ plan: plan.slug, email: `x-${s}@example.com` }))).toBe("INVALID_STATE");
    expect((await c.catalog.setPlanRetired({ plan: plan.slug, retired: false })).archivedAt).toBeNull();

    await c.catalog.setProductRetired({ product: product.slug, retired: true });
    expect(
      await appCode(
        c.catalog.createPlan({
          product: product.slug,
          slug: `late-${s}`,
          name: "Late",
          seats: 1,
          durationDays: null,
          entitlements: [],
          stripePriceIds: [],
        }),
      ),
    ).toBe("INVALID_STATE");

    const list = await c.catalog.list();
    expect(list.products.find((p) => p.slug === product.slug)?.archivedAt).not.toBeNull();
    expect(list.plans.find((p) => p.slug === plan.slug)?.name).toBe("Pro (yearly)");

    expect((await audits("plan", plan.id)).map((a) => a.action)).toEqual(["plan.created", "plan.updated", "plan.retired", "plan.unretired"]);
    const [, updated] = await audits("plan", plan.id);
    expect(updated).toMatchObject({ actorType: "admin", actorId: ADMIN_EMAIL, before: { seats: 3 }, after: { seats: 5 } });
    expect((await audits("product", product.id)).map((a) => a.action)).toEqual(["product.created", "product.updated", "product.retired"]);
  });

  it("refuses a Stripe price bound to another plan, and leaves the plan as it was", async () => {
    const s = uniq();
    const taken = `price_${s}_taken`;
    await makePlan(database.db, { stripePriceIds: [taken] });
    const plan = await makePlan(database.db, { stripePriceIds: [`price_${s}_own`], seats: 2 });
    expect(await appCode(caller().catalog.updatePlan({ plan: plan.slug, seats: 9, stripePriceIds: [taken] }))).toBe("ALREADY_EXISTS");
    const view = (await caller().catalog.list()).plans.find((p) => p.slug === plan.slug)!;
    expect(view).toMatchObject({ seats: 2, stripePriceIds: [`price_${s}_own`] });
  });

  it("answers duplicates and unknown slugs with their codes", async () => {
    const s = uniq();
    await caller().catalog.createProduct({ slug: `dup-${s}`, name: "Dup" });
    expect(await appCode(caller().catalog.createProduct({ slug: `dup-${s}`, name: "Again" }))).toBe("ALREADY_EXISTS");
    expect(await appCode(caller().catalog.updateProduct({ product: `none-${s}`, name: "X" }))).toBe("PRODUCT_NOT_FOUND");
    expect(await appCode(caller().catalog.updatePlan({ plan: `none-${s}`, seats: 2 }))).toBe("PLAN_NOT_FOUND");
    expect(await appCode(caller().catalog.createProduct({ slug: "Not A Slug", name: "X" }))).toBe("BAD_REQUEST");
  });
});

describe("customers", () => {
  it("finds customers by email prefix (case-insensitive), id and Stripe id, in email order with keyset pages", async () => {
    const s = uniq();
    const emails = ["c", "a", "B", "d", "e"].map((x) => `zz${s}-${x}@example.com`);
    for (const e of emails) await makeCustomer(database.db, e);
    const [withStripe] = await database.db
      .update(customers)
      .set({ stripeCustomerId: `cus_${s}` })
      .where(eq(customers.email, emails[0]!))
      .returning();

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await caller().customers.search({ q: `ZZ${s}`, limit: 2, cursor });
      seen.push(...page.data.map((c) => c.email));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...emails].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));

    expect((await caller().customers.search({ q: withStripe!.id })).data.map((c) => c.email)).toEqual([emails[0]]);
    expect((await caller().customers.search({ q: `cus_${s}` })).data.map((c) => c.email)).toEqual([emails[0]]);
    // LIKE wildcards in the query are literal characters.
    expect((await caller().customers.search({ q: `zz${s}_` })).data).toEqual([]);
  });

  it("shows a customer's licenses, emails and payments", async () => {
    const customer = await makeCustomer(database.db);
    const plan = await makePlan(database.db, { seats: 2 });
    const { license } = await makeLicense(database.db, { planId: plan.id, customerId: customer.id });
    const session = `cs_${uniq()}`;
    await database.db.update(licenses).set({ stripeCheckoutSessionId: session, stripeLineItemId: "li_1" }).where(eq(licenses.id, license.id));
    await database.db.insert(stripeEvents).values({
      id: `evt_${uniq()}`,
      type: "checkout.session.completed",
      stripeCreatedAt: new Date(),
      objectId: session,
      payload: {},
      status: "processed",
    });
    await database.db
      .insert(payments)
      .values({ kind: "purchase", stripeCheckoutSessionId: session, status: "paid", amount: 4900, currency: "eur", observedAt: new Date() });
    await caller().licenses.resendEmail({ id: license.id });

    const detail = await caller().customers.get({ id: customer.id });
    expect(detail.customer).toMatchObject({ id: customer.id, email: customer.email, licenses: 1 });
    expect(detail.licenses.map((l) => l.id)).toEqual([license.id]);
    expect(detail.emails.map((e) => e.template)).toEqual(["license-issued"]);
    // Found through the checkout session it paid (a checkout of several line items names no single license).
    expect(detail.payments.map((p) => [p.stripeCheckoutSessionId, p.amount])).toEqual([[session, 4900]]);
    expect(detail.stripe).toHaveLength(1);
    expect(detail.stripe[0]).toMatchObject({ licenseId: license.id, checkoutSessionId: session });
    expect(detail.stripe[0]!.events.map((e) => e.type)).toEqual(["checkout.session.completed"]);
  });

  it("changes an email: unique case-insensitively, audited, future emails go to the new address", async () => {
    const s = uniq();
    const a = await makeCustomer(database.db, `first-${s}@example.com`);
    const b = await makeCustomer(database.db, `second-${s}@example.com`);
    expect(await appCode(caller().customers.changeEmail({ id: a.id, email: `SECOND-${s}@example.com` }))).toBe("ALREADY_EXISTS");
    expect(await appCode(caller().customers.changeEmail({ id: a.id, email: "nope" }))).toBe("BAD_REQUEST");
    expect(await appCode(caller().customers.changeEmail({ id: crypto.randomUUID(), email: `x-${s}@example.com` }))).toBe("NOT_FOUND");

    const changed = await caller().customers.changeEmail({ id: a.id, email: `renamed-${s}@example.com` });
    expect(changed.email).toBe(`renamed-${s}@example.com`);
    // Changing only the case of one's own address is fine.
    await caller().customers.changeEmail({ id: b.id, email: `Second-${s}@Example.com` });

    const [audit] = await audits("customer", a.id);
    expect(audit).toMatchObject({
      action: "customer.email_changed",
      actorType: "admin",
      actorId: ADMIN_EMAIL,
      before: { email: `first-${s}@example.com` },
      after: { email: `renamed-${s}@example.com` },
    });

    const plan = await makePlan(database.db);
    const { license } = await makeLicense(database.db, { planId: plan.id, customerId: a.id });
    const { outboxId } = await caller().licenses.resendEmail({ id: license.id });
    const [mail] = await database.db.select().from(emailOutbox).where(eq(emailOutbox.id, outboxId));
    expect(mail!.to).toBe(`renamed-${s}@example.com`);
  });

  it("two admins racing to give two customers the same email: exactly one wins", async () => {
    const s = uniq();
    const a = await makeCustomer(database.db);
    const b = await makeCustomer(database.db);
    const target = `contested-${s}@example.com`;
    const results = await Promise.allSettled([
      caller().customers.changeEmail({ id: a.id, email: target }),
      caller().customers.changeEmail({ id: b.id, email: target.toUpperCase() }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failure = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(await appCode(Promise.reject(failure.reason))).toBe("ALREADY_EXISTS");
  });
});
