import { and, desc, eq, isNull, ne, or, sql } from "drizzle-orm";
import { z } from "zod";
import { customers, licenses, plans, products, websiteErrors, type LicenseStatus } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { storable } from "@/server/domain/admin/text";
import { AppError } from "@/server/domain/errors";
import { effectiveStatus } from "@/server/domain/licensing/expiry";
import { hashLicenseKey, revealLicenseKey } from "@/server/domain/licensing/license-key";
import { resetAllDevices, resetWindow } from "@/server/domain/licensing/self-reset";

/**
 * A drop-in backend for the Key Commander storefront template (Signal Lynx's SvelteKit template): the calls it
 * makes to its license manager, with the shapes it sends and reads (snake_case, `detail` on errors). Route
 * files under app/api/v1/internal/ are thin adapters over these functions; every one is behind INTERNAL_API_KEY.
 *
 * The template names its users by their Supabase user id; `customers.external_user_id` links a customer (one
 * email) to one such id: claim-by-email sets it, and so does a Checkout Session's metadata.supabase_user_id.
 */

/** Who acts when the storefront calls: the audit log names it. */
export const KEY_COMMANDER_ACTOR: Actor = { type: "system", id: "key-commander" };

const ExternalUserId = z.string().trim().min(1).max(200).refine(storable, "must not contain NUL characters");
const Email = z.string().trim().max(320).pipe(z.email());

export const ExternalUserIdParam = ExternalUserId;
export const ClaimByEmailInput = z.object({ supabase_user_id: ExternalUserId, email: Email });
export const PublicResetActivationsInput = z.object({ license_key: z.string().trim().min(1).max(200), email: Email });
export const ResetByUserIdInput = z.object({ supabase_user_id: ExternalUserId });

export const EntitlementStatus = z.enum(["active", "trial", "developer", "inactive", "blocked"]);
export const UserEntitlement = z.object({
  license_key: z.string(),
  status: EntitlementStatus,
  product_identifier: z.string(),
  tier_identifier: z.string(),
  product_display_name: z.string(),
  tier_display_name: z.string(),
  renews_at: z.iso.datetime().nullable(),
  trial_ends_at: z.iso.datetime().nullable(),
  quantity: z.number().int(),
  last_reset_at: z.iso.datetime().nullable(),
  next_allowed_reset_at: z.iso.datetime().nullable(),
  /** Seconds until the next self-service reset is allowed (0: allowed now), as the template reads it. */
  reset_cooldown_seconds: z.number().int(),
});
export const UserEntitlements = z.array(UserEntitlement);
export type UserEntitlement = z.infer<typeof UserEntitlement>;

export const ClaimByEmailAnswer = z.object({ claimed: z.number().int() });
export const PublicResetAnswer = z.object({ status: z.literal("success"), message: z.string(), next_allowed_reset_at: z.iso.datetime() });
export const ResetByUserIdAnswer = z.object({ status: z.literal("success"), reset: z.number().int() });
/** Every error answer of these routes: the template shows `detail`. */
export const KeyCommanderError = z.object({
  detail: z.string(),
  next_allowed_reset_at: z.iso.datetime().optional(),
  retry_after_seconds: z.number().int().optional(),
});

const at = (d: Date | null) => (d ? d.toISOString() : null);

/** blocked: the operator stopped it (suspended, revoked); inactive: it ran out; trial: a trial still running. */
export function entitlementStatus(status: LicenseStatus, trialEndsAt: Date | null, now: Date): z.infer<typeof EntitlementStatus> {
  if (status === "suspended" || status === "revoked") return "blocked";
  if (status === "expired") return "inactive";
  if (trialEndsAt && trialEndsAt.getTime() > now.getTime()) return "trial";
  return "active";
}

/** GET /api/v1/internal/user-entitlements/{externalUserId}: every license of that user's customers, newest first. */
export async function listUserEntitlements(db: DbOrTx, externalUserId: string, now: Date): Promise<UserEntitlement[]> {
  const rows = await db
    .select({
      keyCiphertext: licenses.keyCiphertext,
      status: licenses.status,
      expiresAt: licenses.expiresAt,
      graceDays: plans.graceDays,
      trialEndsAt: licenses.trialEndsAt,
      autoRenews: licenses.autoRenews,
      cancelAt: licenses.cancelAt,
      maxActivations: licenses.maxActivations,
      lastResetAt: licenses.lastResetAt,
      cooldownDays: plans.resetCooldownDays,
      planSlug: plans.slug,
      planName: plans.name,
      planExternalIds: plans.externalIds,
      productSlug: products.slug,
      productName: products.name,
      productExternalIds: products.externalIds,
    })
    .from(licenses)
    .innerJoin(customers, eq(customers.id, licenses.customerId))
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .where(eq(customers.externalUserId, externalUserId))
    .orderBy(desc(licenses.createdAt), desc(licenses.id));
  return rows.map((r) => {
    const w = resetWindow(r.lastResetAt, r.cooldownDays, now);
    return {
      license_key: revealLicenseKey(r.keyCiphertext),
      status: entitlementStatus(effectiveStatus(r, now), r.trialEndsAt, now),
      product_identifier: r.planExternalIds[0] ?? r.productExternalIds[0] ?? r.productSlug,
      tier_identifier: r.planExternalIds[0] ?? r.planSlug,
      product_display_name: r.productName,
      tier_display_name: r.planName,
      renews_at: r.autoRenews && !r.cancelAt ? at(r.expiresAt) : null,
      trial_ends_at: at(r.trialEndsAt),
      quantity: r.maxActivations,
      last_reset_at: at(r.lastResetAt),
      next_allowed_reset_at: at(w.nextAllowedAt),
      reset_cooldown_seconds: w.retryAfterSeconds,
    };
  });
}

/**
 * Links a customer to an external user, in the caller's transaction (claim-by-email, a checkout's metadata).
 * The link is the storefront's word: a new user id for the same email replaces the old one, and the audit row
 * says so. Answers whether anything changed.
 */
export async function linkCustomerToExternalUser(tx: Tx, actor: Actor, customerId: string, externalUserId: string, via: string) {
  const [before] = await tx
    .update(customers)
    .set({ externalUserId })
    .where(and(eq(customers.id, customerId), or(isNull(customers.externalUserId), ne(customers.externalUserId, externalUserId))))
    .returning({ id: customers.id });
  if (!before) return false;
  await recordAudit(tx, actor, {
    action: "customer.external_user_linked",
    subjectType: "customer",
    subjectId: customerId,
    after: { externalUserId },
    metadata: { via },
  });
  return true;
}

/** POST /api/v1/internal/licenses/claim-by-email: every license bought with that email now belongs to the user. */
export async function claimLicensesByEmail(tx: Tx, actor: Actor, input: z.infer<typeof ClaimByEmailInput>): Promise<{ claimed: number }> {
  const [customer] = await tx
    .select({ id: customers.id })
    .from(customers)
    .where(sql`lower(${customers.email}) = lower(${input.email})`)
    .for("update");
  if (!customer) return { claimed: 0 };
  await linkCustomerToExternalUser(tx, actor, customer.id, input.supabase_user_id, "claim-by-email");
  const [{ n } = { n: 0 }] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(licenses)
    .where(eq(licenses.customerId, customer.id));
  return { claimed: n };
}

const notThatEmails = () => new AppError("NOT_FOUND", "No license with that key belongs to that email address.");

/**
 * POST /api/v1/internal/users/public/reset-activations: the storefront's "reset my devices", with the plan's
 * cooldown (RESET_COOLDOWN inside it). A key that is unknown or someone else's is the same 404.
 */
export async function publicResetActivations(tx: Tx, input: z.infer<typeof PublicResetActivationsInput>, now: Date) {
  const hash = hashLicenseKey(input.license_key);
  if (!hash) throw notThatEmails();
  const [found] = await tx
    .select({ id: licenses.id })
    .from(licenses)
    .innerJoin(customers, eq(customers.id, licenses.customerId))
    .where(and(eq(licenses.keyHash, hash), sql`lower(${customers.email}) = lower(${input.email})`));
  if (!found) throw notThatEmails();
  const result = await resetAllDevices(tx, found, KEY_COMMANDER_ACTOR, now, { via: "key-commander" });
  const n = result.removed.length;
  return {
    status: "success" as const,
    message: n === 0 ? "No devices were activated; the license is ready for new ones." : `${n} ${n === 1 ? "device was" : "devices were"} deactivated.`,
    next_allowed_reset_at: result.nextAllowedResetAt.toISOString(),
  };
}

/**
 * POST /api/v1/internal/licenses/reset-activations-by-user-id: the storefront's admin resets every license of
 * one user. It is the storefront operator's own tool, so like the admin app's reset it is not held to the
 * cooldown (and, like it, starts a new one). Revoked licenses are skipped. Answers how many licenses were reset.
 */
export async function resetActivationsByUserId(tx: Tx, input: z.infer<typeof ResetByUserIdInput>, now: Date) {
  const owned = await tx
    .select({ id: licenses.id })
    .from(licenses)
    .innerJoin(customers, eq(customers.id, licenses.customerId))
    .where(and(eq(customers.externalUserId, input.supabase_user_id), ne(licenses.status, "revoked")))
    .orderBy(licenses.id);
  for (const l of owned) {
    await resetAllDevices(tx, l, KEY_COMMANDER_ACTOR, now, { via: "key-commander-admin", bypassCooldown: true });
  }
  return { status: "success" as const, reset: owned.length };
}

// --- Website errors ------------------------------------------------------------------------------------------

/** Stored texts are cut to these lengths (a stack trace is long; a summary is a line). */
const LIMITS = { productId: 200, clientVersion: 100, userIdentifier: 500, errorSummary: 2_000, errorDetails: 20_000 } as const;

/** Any string, made storable: NUL and lone surrogates replaced, cut to `max` characters. */
const boundedText = (max: number) =>
  z
    .string()
    .max(100_000)
    .transform((s) => s.replaceAll("\u0000", "\uFFFD").toWellFormed().slice(0, max));

export const ReportWebsiteErrorInput = z.object({
  product_id: boundedText(LIMITS.productId).pipe(z.string().min(1)),
  client_version: boundedText(LIMITS.clientVersion).nullish(),
  user_identifier: boundedText(LIMITS.userIdentifier).nullish(),
  error_summary: boundedText(LIMITS.errorSummary).pipe(z.string().min(1)),
  error_details: boundedText(LIMITS.errorDetails).nullish(),
});
export const ReportWebsiteErrorAnswer = z.object({ status: z.literal("accepted"), id: z.uuid() });

/** POST /api/v1/report-website-error: kept for the admin app's "Website errors" page. */
export async function reportWebsiteError(db: DbOrTx, input: z.infer<typeof ReportWebsiteErrorInput>) {
  const [row] = await db
    .insert(websiteErrors)
    .values({
      productId: input.product_id,
      clientVersion: input.client_version ?? null,
      userIdentifier: input.user_identifier ?? null,
      errorSummary: input.error_summary,
      errorDetails: input.error_details ?? null,
    })
    .returning({ id: websiteErrors.id });
  return { status: "accepted" as const, id: row!.id };
}

export const ListWebsiteErrorsInput = z.object({ limit: z.number().int().min(1).max(200).default(100) });

/** The admin app's list, newest first. */
export async function listWebsiteErrors(db: DbOrTx, input: z.infer<typeof ListWebsiteErrorsInput>) {
  const rows = await db.select().from(websiteErrors).orderBy(desc(websiteErrors.createdAt), desc(websiteErrors.id)).limit(input.limit);
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
}

