import { eq } from "drizzle-orm";
import { z } from "zod";
import { plans } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import type { Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { upsertCustomerByEmail } from "@/server/domain/customers/upsert";
import { storableText } from "@/server/domain/admin/text";
import { AppError } from "@/server/domain/errors";
import { queueEmail } from "@/server/domain/mail/queue";
import { issueLicense } from "./issue";
import { loadLicenseView } from "./view";

export const Email = z.string().trim().max(320).pipe(z.email());

/** An ISO-8601 instant with a time zone ("2027-01-31T00:00:00Z"); null where allowed means perpetual. */
export const Instant = z.iso.datetime({ offset: true });

export const IssueManualLicenseInput = z.strictObject({
  plan: storableText(1, 64),
  email: Email,
  /** Activations allowed; default: the plan's seats. */
  seats: z.number().int().min(1).max(1_000_000).optional(),
  /** Default: now + the plan's duration, or perpetual. null: perpetual whatever the plan says. */
  expiresAt: Instant.nullable().optional(),
});
export type IssueManualLicenseInput = z.infer<typeof IssueManualLicenseInput>;

/** A future instant, or a 400: issuing or extending into the past is always a typo. */
export function futureInstant(value: string | null | undefined): Date | null | undefined {
  if (value === undefined || value === null) return value;
  const at = new Date(value);
  if (at.getTime() <= now().getTime()) throw new AppError("BAD_REQUEST", "expiresAt must be in the future.");
  return at;
}

/**
 * Issues a license by hand (admin app or management API) to the customer with this email, created if new,
 * and owes them the license email. Everything commits together in the caller's transaction.
 */
export async function issueManualLicense(tx: DbOrTx, actor: Actor, input: IssueManualLicenseInput) {
  const expiresAt = futureInstant(input.expiresAt);
  const [plan] = await tx.select().from(plans).where(eq(plans.slug, input.plan));
  if (!plan) throw new AppError("PLAN_NOT_FOUND", `There is no plan "${input.plan}".`);
  if (plan.archivedAt) throw new AppError("INVALID_STATE", `The plan "${input.plan}" is archived and issues no new licenses.`);

  const customer = await upsertCustomerByEmail(tx, { email: input.email });
  const { license, key } = await issueLicense(tx, actor, {
    planId: plan.id,
    customerId: customer.id,
    maxActivations: input.seats,
    expiresAt,
    source: "manual",
  });
  await queueEmail(tx, {
    dedupeKey: `license-issued:manual:${license.id}`,
    template: "license-issued",
    to: customer.email,
    customerId: customer.id,
    props: { licenseIds: [license.id] },
  });
  const view = await loadLicenseView(tx, license.id);
  return { license: view!, key };
}
