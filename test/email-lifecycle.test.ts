import crypto from "node:crypto";
import { render } from "@react-email/render";
import { eq } from "drizzle-orm";
import { createElement, type FunctionComponent } from "react";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { TemplateName, TemplateProps } from "@/emails";
import CancellationScheduledEmail from "@/emails/cancellation-scheduled";
import LicenseExpiredEmail from "@/emails/license-expired";
import LicenseExpiringEmail from "@/emails/license-expiring";
import LicenseStatusChangedEmail from "@/emails/license-status-changed";
import PaymentFailedEmail from "@/emails/payment-failed";
import PlanChangedEmail from "@/emails/plan-changed";
import RenewalReceiptEmail from "@/emails/renewal-receipt";
import TrialEndingEmail from "@/emails/trial-ending";
import { closeDb } from "@/server/db/client";
import { activations, customers, emailOutbox, licenses } from "@/server/db/schema";
import type { Actor } from "@/server/domain/audit/record";
import { setClock } from "@/server/domain/clock";
import { applyLicenseAction, notifyPlanChanged } from "@/server/domain/licensing/lifecycle";
import { deliverOutboxEmail } from "@/server/domain/mail/deliver";
import { queueEmail } from "@/server/domain/mail/queue";
import { renderEmail } from "@/server/domain/mail/render";
import { env, resetEnvCache } from "@/server/env";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { makeLicense, makePlan, makeProduct } from "./helpers/factories";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

// The lifecycle emails rendered from real rows (license, plan, product read at send time), the admin actions
// that owe them, and one delivered through a real SMTP server.

let database: TestDb;
let catcher: SmtpCatcher;
const db = () => database.db;
const ADMIN: Actor = { type: "admin", id: "owner@example.com" };

beforeAll(async () => {
  database = await createTestDatabase("maillc");
  await useProcessDatabase(database.url);
  catcher = await startSmtpCatcher();
});

afterAll(async () => {
  delete process.env.SMTP_URL;
  resetEnvCache();
  await catcher?.stop();
  await closeDb();
  await database?.drop();
});

afterEach(() => {
  setClock(undefined);
  vi.restoreAllMocks();
});

const EXPIRES = new Date("2031-05-17T09:00:00Z");

/** A license of "Acme Studio · Pro yearly" (3 seats, 7 grace days) expiring May 17, 2031. */
async function acmeLicense(over: { expiresAt?: Date | null; seats?: number } = {}) {
  const product = await makeProduct(db(), { name: "Acme Studio" });
  const plan = await makePlan(db(), {
    productId: product.id,
    name: "Pro yearly",
    seats: over.seats ?? 3,
    graceDays: 7,
    entitlements: ["export-4k", "cloud-sync"],
  });
  const { license, key } = await makeLicense(db(), { planId: plan.id, expiresAt: over.expiresAt === undefined ? EXPIRES : over.expiresAt });
  return { product, plan, license, key };
}

/** Owes an email through the real queue, then renders its outbox row as the send job would. */
async function owe<T extends TemplateName>(template: T, props: TemplateProps[T]) {
  const outboxId = await db().transaction((tx) =>
    queueEmail(tx, { dedupeKey: `test:${crypto.randomUUID()}`, template, to: "buyer@example.com", props }),
  );
  const [row] = await db().select().from(emailOutbox).where(eq(emailOutbox.id, outboxId!));
  return { row: row!, email: await renderEmail(db(), row!) };
}

/** Every lifecycle email names the license without revealing its key, in both parts and in the outbox. */
function expectNoKey(key: string, ...texts: string[]) {
  for (const t of texts) {
    expect(t).not.toContain(key);
    expect(t).not.toContain(key.replaceAll("-", ""));
  }
}

describe("rendering the lifecycle emails from real rows", () => {
  it("renewal receipt: the new expiry", async () => {
    const { license, key } = await acmeLicense();
    const { row, email } = await owe("renewal-receipt", { licenseId: license.id, renewedUntil: "2032-05-17T09:00:00.000Z" });
    expect(email.subject).toBe("Your Acme Studio license is renewed until May 17, 2032");
    for (const body of [email.text, email.html]) {
      expect(body).toContain("Acme Studio · Pro yearly");
      expect(body).toContain(`…-${license.keyHint}`);
      expect(body).toContain("now runs until May 17, 2032");
    }
    expectNoKey(key, email.text, email.html, JSON.stringify(row));
  });

  it("payment failed: until when it keeps working (expiry plus grace by default) and where to fix payment", async () => {
    const { license, key } = await acmeLicense();
    const fix = "https://invoice.stripe.com/i/acct_1/test_abc";
    const { row, email } = await owe("payment-failed", { licenseId: license.id, invoiceId: "in_1", fixPaymentUrl: fix });
    expect(email.subject).toBe("Payment failed for your Acme Studio license");
    expect(email.text).toContain("keeps working until May 24, 2031 (UTC)");
    expect(email.html).toContain(`href="${fix}"`);
    expectNoKey(key, email.text, email.html, JSON.stringify(row));

    // An explicit grace end wins; without a payment link the button leads to the customer's account.
    const other = await owe("payment-failed", { licenseId: license.id, graceEndsAt: "2031-06-01T00:00:00.000Z" });
    expect(other.email.text).toContain("keeps working until June 1, 2031 (UTC)");
    expect(other.email.html).toContain(`href="${env().APP_URL}/portal"`);
  });

  it("cancellation scheduled: the date it stops, and how to undo it", async () => {
    const { license } = await acmeLicense();
    const { email } = await owe("cancellation-scheduled", { licenseId: license.id, endsAt: EXPIRES.toISOString() });
    expect(email.subject).toBe("Your Acme Studio subscription ends on May 17, 2031");
    expect(email.text).toContain("keeps working until May 17, 2031 (UTC)");
    expect(email.text).toContain("Resume the subscription before May 17, 2031");
  });

  it("license expiring: the date, the days left and how to renew (buy again, or resume a subscription)", async () => {
    const { license, key } = await acmeLicense();
    setClock(() => new Date("2031-05-10T09:00:00Z"));
    const manual = await owe("license-expiring", { licenseId: license.id, expiresAt: EXPIRES.toISOString() });
    expect(manual.email.subject).toBe("Your Acme Studio license expires in 7 days");
    expect(manual.email.text).toContain("expires on May 17, 2031 (UTC), in 7 days, and will not renew by itself");
    expect(manual.email.text).toContain("renew from your account");
    expect(manual.email.text).toContain("Renew your license");
    expectNoKey(key, manual.email.text, manual.email.html, JSON.stringify(manual.row));

    await db().update(licenses).set({ stripeSubscriptionId: "sub_test_1", cancelAt: EXPIRES }).where(eq(licenses.id, license.id));
    setClock(() => new Date("2031-05-16T21:00:00Z"));
    const cancelled = await owe("license-expiring", { licenseId: license.id, expiresAt: EXPIRES.toISOString() });
    expect(cancelled.email.subject).toBe("Your Acme Studio license expires within a day");
    expect(cancelled.email.text).toContain("resume your subscription from your account before May 17, 2031");
  });

  it("trial ending: what happens next depends on whether a subscription follows by itself", async () => {
    const { license } = await acmeLicense();
    const trialEndsAt = "2031-05-17T09:00:00.000Z";
    const lapsing = await owe("trial-ending", { licenseId: license.id, trialEndsAt });
    expect(lapsing.email.subject).toBe("Your Acme Studio trial ends on May 17, 2031");
    expect(lapsing.email.text).toContain("stops accepting this license unless you subscribe");

    await db().update(licenses).set({ autoRenews: true }).where(eq(licenses.id, license.id));
    const converting = await owe("trial-ending", { licenseId: license.id, trialEndsAt });
    expect(converting.email.text).toContain("Pro yearly subscription starts then");
    expect(converting.email.text).not.toContain("unless you subscribe");
  });

  it("license expired: the date it stopped working", async () => {
    const { license } = await acmeLicense();
    const { email } = await owe("license-expired", { licenseId: license.id, expiredAt: "2031-05-24T09:00:00.000Z" });
    expect(email.subject).toBe("Your Acme Studio license has expired");
    expect(email.text).toContain("expired on May 24, 2031 (UTC)");
    expect(email.text).toContain("Renew your license");
  });

  it("suspended, revoked, reinstated: the reason in plain words", async () => {
    const { license, key } = await acmeLicense();
    const reason = "The payment was disputed with your bank.";
    const suspended = await owe("license-status-changed", { licenseId: license.id, status: "suspended", reason });
    expect(suspended.email.subject).toBe("Your Acme Studio license is suspended");
    expect(suspended.email.text).toContain(`Reason: ${reason}`);
    expect(suspended.email.text).toContain("once the license is reinstated");
    expectNoKey(key, suspended.email.text, suspended.email.html, JSON.stringify(suspended.row));

    const revoked = await owe("license-status-changed", { licenseId: license.id, status: "revoked", reason: "Refunded on request." });
    expect(revoked.email.subject).toBe("Your Acme Studio license has been revoked");
    expect(revoked.email.text).toContain("Reason: Refunded on request.");
    expect(revoked.email.text).toContain("Revoking is final");

    const reinstated = await owe("license-status-changed", { licenseId: license.id, status: "reinstated" });
    expect(reinstated.email.subject).toBe("Your Acme Studio license works again");
    expect(reinstated.email.text).not.toContain("Reason:");
  });

  it("plan changed: old and new plan, seats and entitlements, and what happens when devices exceed the seats", async () => {
    const { product, plan: from, license } = await acmeLicense({ seats: 3 });
    const to = await makePlan(db(), { productId: product.id, name: "Team yearly", seats: 10, entitlements: ["export-4k", "sso"] });
    await db().update(licenses).set({ planId: to.id, maxActivations: 10 }).where(eq(licenses.id, license.id));
    const { email } = await owe("plan-changed", { licenseId: license.id, fromPlanId: from.id, toPlanId: to.id, previousSeats: 3 });
    expect(email.subject).toBe("Your Acme Studio license is now on Team yearly");
    expect(email.text).toContain("moved from Pro yearly to Team yearly");
    expect(email.text).toContain("Seats: 3 → 10");
    expect(email.text).toContain("Now included: sso.");
    expect(email.text).toContain("No longer included: cloud-sync.");
    expect(email.text).not.toContain("no new device can be activated");

    // Down to one seat with two machines active.
    const solo = await makePlan(db(), { productId: product.id, name: "Solo", seats: 1, entitlements: ["export-4k", "sso"] });
    await db().update(licenses).set({ planId: solo.id, maxActivations: 1 }).where(eq(licenses.id, license.id));
    await db().insert(activations).values([
      { licenseId: license.id, fingerprint: "a" },
      { licenseId: license.id, fingerprint: "b" },
    ]);
    const down = await owe("plan-changed", { licenseId: license.id, fromPlanId: to.id, toPlanId: solo.id, previousSeats: 10 });
    expect(down.email.text).toContain("Seats: 10 → 1");
    expect(down.email.text).toContain("2 devices are activated but the new plan allows 1 seat");
    expect(down.email.text).toContain("until you deactivate one of them");
  });

  it("a license deleted before the send can never be described: the row fails with the reason, nothing is sent", async () => {
    process.env.SMTP_URL = catcher.url;
    resetEnvCache();
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const gone = crypto.randomUUID();
    const before = catcher.attempts();
    for (const [template, props] of [
      ["license-expired", { licenseId: gone, expiredAt: EXPIRES.toISOString() }],
      ["license-expiring", { licenseId: gone, expiresAt: EXPIRES.toISOString() }],
      ["license-status-changed", { licenseId: gone, status: "revoked" }],
    ] as const) {
      const outboxId = await db().transaction((tx) =>
        queueEmail(tx, { dedupeKey: `test:${crypto.randomUUID()}`, template, to: "x@example.com", props } as never),
      );
      const outcome = await deliverOutboxEmail(db(), outboxId!);
      expect(outcome).toMatchObject({ outcome: "failed" });
      const [row] = await db().select().from(emailOutbox).where(eq(emailOutbox.id, outboxId!));
      expect(row).toMatchObject({ status: "failed", attempts: 1 });
      expect(row!.lastError).toBe(`License ${gone} no longer exists.`);
    }
    expect(catcher.attempts()).toBe(before);
  });

  it("every template renders its preview props (what `email dev` shows)", async () => {
    const templates: Array<FunctionComponent<any> & { PreviewProps: object }> = [
      RenewalReceiptEmail,
      PaymentFailedEmail,
      CancellationScheduledEmail,
      LicenseExpiringEmail,
      TrialEndingEmail,
      LicenseExpiredEmail,
      LicenseStatusChangedEmail,
      PlanChangedEmail,
    ];
    for (const Template of templates) {
      const text = await render(createElement(Template, Template.PreviewProps), { plainText: true });
      expect(text, Template.name).toContain("Acme Studio");
      expect(text, Template.name).toContain("…-VD6PJ");
    }
  });
});

describe("admin actions owe the license-status-changed email", () => {
  const outboxFor = (licenseId: string) =>
    db()
      .select()
      .from(emailOutbox)
      .where(eq(emailOutbox.template, "license-status-changed"))
      .then((rows) => rows.filter((r) => (r.props as { licenseId: string }).licenseId === licenseId));

  it("suspend, reinstate and revoke each queue one email with the reason, in the action's transaction", async () => {
    const { license } = await acmeLicense();
    const [customer] = await db().select().from(customers).where(eq(customers.id, license.customerId));

    await db().transaction((tx) => applyLicenseAction(tx, ADMIN, license.id, "suspend", { reason: "Chargeback opened" }));
    await db().transaction((tx) => applyLicenseAction(tx, ADMIN, license.id, "reinstate", {}));
    await db().transaction((tx) => applyLicenseAction(tx, ADMIN, license.id, "revoke", { reason: "Refunded" }));

    const rows = (await outboxFor(license.id)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    expect(rows.map((r) => r.props)).toEqual([
      { licenseId: license.id, status: "suspended", reason: "Chargeback opened" },
      { licenseId: license.id, status: "reinstated", reason: null },
      { licenseId: license.id, status: "revoked", reason: "Refunded" },
    ]);
    expect(rows.every((r) => r.to === customer!.email && r.customerId === customer!.id)).toBe(true);
  });

  it("an action that rolls back owes nothing", async () => {
    const { license } = await acmeLicense();
    await expect(
      db().transaction(async (tx) => {
        await applyLicenseAction(tx, ADMIN, license.id, "suspend", { reason: "oops" });
        throw new Error("the caller failed after the action");
      }),
    ).rejects.toThrow("the caller failed");
    expect(await outboxFor(license.id)).toEqual([]);
    const [row] = await db().select().from(licenses).where(eq(licenses.id, license.id));
    expect(row!.status).toBe("active");
  });

  it("reinstating a license whose time ran out while suspended does not claim it works again", async () => {
    const { license } = await acmeLicense({ expiresAt: new Date(Date.now() + 3_600_000) });
    await db().transaction((tx) => applyLicenseAction(tx, ADMIN, license.id, "suspend", {}));
    setClock(() => new Date(Date.now() + 30 * 86_400_000));
    const result = await db().transaction((tx) => applyLicenseAction(tx, ADMIN, license.id, "reinstate", {}));
    expect(result.license.status).toBe("expired");
    expect((await outboxFor(license.id)).map((r) => (r.props as { status: string }).status)).toEqual(["suspended"]);
  });

  it("notifyPlanChanged owes the plan-changed email that renders old -> new", async () => {
    const { product, plan: from, license } = await acmeLicense();
    const to = await makePlan(db(), { productId: product.id, name: "Team yearly", seats: 5, entitlements: [] });
    const outboxId = await db().transaction(async (tx) => {
      const [moved] = await tx.update(licenses).set({ planId: to.id, maxActivations: 5 }).where(eq(licenses.id, license.id)).returning();
      return notifyPlanChanged(tx, moved!, { fromPlanId: from.id, previousSeats: 3 });
    });
    const [row] = await db().select().from(emailOutbox).where(eq(emailOutbox.id, outboxId!));
    expect(row!.props).toEqual({ licenseId: license.id, fromPlanId: from.id, toPlanId: to.id, previousSeats: 3 });
    const email = await renderEmail(db(), row!);
    expect(email.text).toContain("moved from Pro yearly to Team yearly");
    expect(email.text).toContain("Seats: 3 → 5");
  });

  it("the email reaches a real SMTP server with the reason", async () => {
    process.env.SMTP_URL = catcher.url;
    resetEnvCache();
    const { license } = await acmeLicense();
    await db().transaction((tx) => applyLicenseAction(tx, ADMIN, license.id, "suspend", { reason: "Unusual activations from 40 countries" }));
    const [row] = await outboxFor(license.id);
    const n = catcher.messages.length;
    expect(await deliverOutboxEmail(db(), row!.id)).toMatchObject({ outcome: "sent", provider: "smtp" });
    const message = await catcher.waitFor(n + 1);
    expect(message.to).toEqual([row!.to]);
    expect(message.subject).toBe("Your Acme Studio license is suspended");
    expect(message.text).toContain("Reason: Unusual activations from 40 countries");
    expect(message.html).toContain("Unusual activations from 40 countries");
  });
});
