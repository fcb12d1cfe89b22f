import crypto from "node:crypto";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { customers, licenses, plans, products, trialClaims, trialRequests } from "@/server/db/schema";
import type { Db, Tx } from "@/server/db/client";
import type { Actor } from "@/server/domain/audit/record";
import { addDays, now } from "@/server/domain/clock";
import { upsertCustomerByEmail } from "@/server/domain/customers/upsert";
import { AppError } from "@/server/domain/errors";
import { issueLicense } from "@/server/domain/licensing/issue";
import { revealLicenseKey } from "@/server/domain/licensing/license-key";
import { queueEmail } from "@/server/domain/mail/queue";
import { open, seal, sha256Hex } from "@/server/domain/secret-box";
import { env } from "@/server/env";
import { isDisposableEmail, readShopSettings } from "./settings";

/**
 * Card-free trials. "Start free trial" asks for an email (POST /api/v1/trials); the address gets a confirm
 * link; the link's page has a button (scanners open links, people press buttons: the sign-in pattern) that
 * confirms it (POST /api/v1/trials/confirm), which issues the trial license and emails its key.
 *
 * One trial per email per product (trial_claims' primary key). A request for an address that already had
 * one, or that already holds a license of the product, sends nothing and answers the same 202: the answer
 * never says whether an address is known. A trial license is "active" with trial_ends_at and expires_at at the
 * trial's end, like a Stripe trial: the trial-ending notice and the expiry sweep treat it the same way.
 */

export const RequestTrialInput = z.object({
  plan: z.string().trim().min(1).max(100),
  email: z.email().max(320),
});
export type RequestTrialInput = z.infer<typeof RequestTrialInput>;
export const RequestTrialOutput = z.object({ accepted: z.literal(true), message: z.string() });

export const ConfirmTrialInput = z.object({ token: z.string().trim().min(20).max(200) });
export type ConfirmTrialInput = z.infer<typeof ConfirmTrialInput>;
export const ConfirmTrialOutput = z.object({
  license: z.object({
    id: z.string(),
    key: z.string(),
    product: z.string(),
    productName: z.string(),
    plan: z.string(),
    planName: z.string(),
    maxActivations: z.number(),
    trialEndsAt: z.string().nullable(),
  }),
  email: z.string(),
});
export type ConfirmTrialOutput = z.infer<typeof ConfirmTrialOutput>;

/** How long a confirm link works. */
export const TRIAL_LINK_HOURS = 24;
/** Requests per address per hour (a typo, a lost email), on top of the per-client limit at the door. */
export const TRIAL_REQUESTS_PER_ADDRESS_PER_HOUR = 3;
const LINK_PURPOSE = "trial-link";
const ACCEPTED = {
  accepted: true as const,
  message: "If this address can start a trial, a confirmation link is on its way. Check your email.",
};

const normalEmail = (email: string) => email.trim().toLowerCase();

export async function requestTrial(db: Db, input: RequestTrialInput): Promise<z.infer<typeof RequestTrialOutput>> {
  const email = input.email.trim();
  const [plan] = await db
    .select({ id: plans.id, productId: plans.productId, trialDays: plans.trialDays })
    .from(plans)
    .innerJoin(products, eq(products.id, plans.productId))
    .where(and(eq(plans.slug, input.plan), isNull(plans.archivedAt), isNull(products.archivedAt)));
  if (!plan || !plan.trialDays) throw new AppError("NOT_FOUND", "That plan offers no free trial.");
  const settings = await readShopSettings(db);
  if (isDisposableEmail(email, settings.disposableDomains)) {
    throw new AppError("DISPOSABLE_EMAIL", "Please use a permanent email address for your trial; throwaway addresses are not accepted.");
  }

  return db.transaction(async (tx) => {
    // Requests for one address queue here, so the per-address count below holds under races.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`trial-request:${normalEmail(email)}`}, 0))`);
    if (await hadTrialOrLicense(tx, plan.productId, email)) return ACCEPTED;
    const [recent] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(trialRequests)
      .where(and(sql`lower(${trialRequests.email}) = ${normalEmail(email)}`, gt(trialRequests.createdAt, new Date(Date.now() - 3600_000))));
    // Over the limit: nothing sent, and the same answer (a flood cannot tell a known address from a new one).
    if ((recent?.n ?? 0) >= TRIAL_REQUESTS_PER_ADDRESS_PER_HOUR) return ACCEPTED;

    const token = crypto.randomBytes(32).toString("base64url");
    const expiresAt = new Date(Date.now() + TRIAL_LINK_HOURS * 3600_000);
    const [row] = await tx
      .insert(trialRequests)
      .values({ tokenHash: sha256Hex(token), email, planId: plan.id, expiresAt })
      .returning({ id: trialRequests.id });
    const url = `${env().APP_URL}/trial/confirm?token=${encodeURIComponent(token)}`;
    await queueEmail(tx, {
      dedupeKey: `trial-link:${row!.id}`,
      template: "trial-link",
      to: email,
      props: { sealedUrl: seal(LINK_PURPOSE, url), planId: plan.id, expiresAt: expiresAt.toISOString() },
    });
    return ACCEPTED;
  });
}

/** The link back in clear, for the send job; throws if it was sealed under another AUTH_SECRET. */
export const openTrialUrl = (sealedUrl: string) => open(LINK_PURPOSE, sealedUrl).toString("utf8");

async function hadTrialOrLicense(tx: Tx, productId: string, email: string): Promise<boolean> {
  const [claim] = await tx
    .select({ email: trialClaims.email })
    .from(trialClaims)
    .where(and(eq(trialClaims.productId, productId), eq(trialClaims.email, normalEmail(email))));
  return Boolean(claim) || (await ownsLicenseOf(tx, productId, email));
}

export const trialActor = (customerId: string): Actor => ({ type: "customer", id: customerId });

/**
 * Confirms a trial link: issues the trial license (one transaction: claim, customer, license, audit, email),
 * or, for a link already confirmed, shows the license it issued again. An address that got a trial of the
 * product meanwhile (another link) gets TRIAL_USED.
 */
export async function confirmTrial(db: Db, input: ConfirmTrialInput): Promise<ConfirmTrialOutput> {
  const tokenHash = sha256Hex(input.token);
  const licenseId = await db.transaction(async (tx) => {
    const [request] = await tx.select().from(trialRequests).where(eq(trialRequests.tokenHash, tokenHash)).for("update");
    if (!request || request.expiresAt.getTime() <= Date.now()) {
      throw new AppError("LINK_EXPIRED", "This trial link has expired or is not valid. Ask for a new one on the pricing page.");
    }
    if (request.usedAt) {
      if (!request.licenseId) throw new AppError("LINK_EXPIRED", "This trial link was already used.");
      return request.licenseId;
    }
    const [plan] = await tx.select().from(plans).where(eq(plans.id, request.planId));
    if (!plan || !plan.trialDays || plan.archivedAt) throw new AppError("NOT_FOUND", "That plan no longer offers a free trial.");

    const claimed = await tx
      .insert(trialClaims)
      .values({ productId: plan.productId, email: normalEmail(request.email) })
      .onConflictDoNothing()
      .returning({ email: trialClaims.email });
    if (claimed.length === 0 || (await ownsLicenseOf(tx, plan.productId, request.email))) {
      throw new AppError("TRIAL_USED", "This email address has already had a free trial of this product.");
    }
    const customer = await upsertCustomerByEmail(tx, { email: request.email });
    const trialEndsAt = addDays(now(), plan.trialDays);
    const { license } = await issueLicense(tx, trialActor(customer.id), {
      planId: plan.id,
      customerId: customer.id,
      expiresAt: trialEndsAt,
      source: "trial",
      billing: { status: "active", statusReason: null, autoRenews: false, cancelAt: null, trialEndsAt },
    });
    await tx.update(trialClaims).set({ licenseId: license.id }).where(and(eq(trialClaims.productId, plan.productId), eq(trialClaims.email, normalEmail(request.email))));
    await tx.update(trialRequests).set({ usedAt: now(), licenseId: license.id }).where(eq(trialRequests.id, request.id));
    await queueEmail(tx, {
      dedupeKey: `license-issued:trial:${license.id}`,
      template: "license-issued",
      to: request.email,
      customerId: customer.id,
      props: { licenseIds: [license.id] },
    });
    return license.id;
  });

  const [row] = await db
    .select({
      id: licenses.id,
      keyCiphertext: licenses.keyCiphertext,
      product: products.slug,
      productName: products.name,
      plan: plans.slug,
      planName: plans.name,
      maxActivations: licenses.maxActivations,
      trialEndsAt: licenses.trialEndsAt,
      email: customers.email,
    })
    .from(licenses)
    .innerJoin(customers, eq(customers.id, licenses.customerId))
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .where(eq(licenses.id, licenseId));
  if (!row) throw new AppError("NOT_FOUND", "That trial license no longer exists.");
  const { keyCiphertext, email, trialEndsAt, ...rest } = row;
  return { license: { ...rest, key: revealLicenseKey(keyCiphertext), trialEndsAt: trialEndsAt?.toISOString() ?? null }, email };
}

async function ownsLicenseOf(tx: Tx, productId: string, email: string) {
  const [owned] = await tx
    .select({ id: licenses.id })
    .from(licenses)
    .innerJoin(customers, eq(customers.id, licenses.customerId))
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .where(and(eq(plans.productId, productId), sql`lower(${customers.email}) = ${normalEmail(email)}`))
    .limit(1);
  return Boolean(owned);
}
