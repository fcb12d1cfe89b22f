import crypto from "node:crypto";
import { and, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { customerLinks, customers, licenses, portalConfirmations, type PortalConfirmationPurpose } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { upsertCustomerByEmail } from "@/server/domain/customers/upsert";
import { AppError } from "@/server/domain/errors";
import { displayHint } from "@/server/domain/licensing/license-key";
import { rotateLicenseKey } from "@/server/domain/licensing/lifecycle";
import { queueEmail } from "@/server/domain/mail/queue";
import { open, seal, sha256Hex } from "@/server/domain/secret-box";
import { env } from "@/server/env";

/**
 * Portal changes that wait for a click on an emailed link (CONTRACT-free, issue 10 "Portal"):
 * - rotate-key: a customer replaces a key they think is compromised. The link goes to the license's own
 *   address, so someone who got hold of a session (a shared computer) cannot quietly take the key over; once
 *   confirmed, the old key stops at once and the new one is emailed (lifecycle's rotateLicenseKey), while the
 *   subscription, seats and devices stay.
 * - add-email: a customer proves another address by a link sent to it, then sees that address's licenses too.
 *
 * A link is a bearer secret: only its hash is stored, and the outbox row holds the link sealed (purpose
 * PORTAL_LINK_PURPOSE, opened only at send time, listed in sealed-fields.ts). Opening the link's page spends
 * nothing (mail scanners open every link); its button posts, and only then is the token used, once.
 */

export const PORTAL_LINK_PURPOSE = "portal-confirm-link";
export const CONFIRM_PAGE_PATH = "/confirm";
/** Long enough to switch to the mail app, short enough that an old email in a leaked mailbox is useless. */
export const CONFIRM_LINK_TTL_MS = 60 * 60 * 1000;

export const PortalEmailInput = z.object({
  email: z
    .string()
    .trim()
    .max(320)
    .pipe(z.email({ message: "That does not look like an email address." })),
});

export const ConfirmTokenInput = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "This link is incomplete.") });

const confirmUrl = (token: string) => `${env().APP_URL}${CONFIRM_PAGE_PATH}?token=${token}`;

/** The sealed link back in clear, for the sender; throws if it was sealed under another AUTH_SECRET. */
export function openPortalConfirmUrl(sealedUrl: string): string {
  return open(PORTAL_LINK_PURPOSE, sealedUrl).toString("utf8");
}

async function createConfirmation(
  tx: Tx,
  input: { purpose: PortalConfirmationPurpose; customerId: string; licenseId?: string; email?: string; to: string },
) {
  const token = crypto.randomBytes(32).toString("base64url");
  const expiresAt = new Date(now().getTime() + CONFIRM_LINK_TTL_MS);
  const [row] = await tx
    .insert(portalConfirmations)
    .values({
      purpose: input.purpose,
      tokenHash: sha256Hex(token),
      customerId: input.customerId,
      licenseId: input.licenseId ?? null,
      email: input.email ?? null,
      createdAt: now(),
      expiresAt,
    })
    .returning({ id: portalConfirmations.id });
  await queueEmail(tx, {
    dedupeKey: `portal-confirm:${row!.id}`,
    template: "portal-confirm",
    to: input.to,
    customerId: input.customerId,
    props: {
      purpose: input.purpose,
      sealedUrl: seal(PORTAL_LINK_PURPOSE, confirmUrl(token)),
      expiresAt: expiresAt.toISOString(),
      licenseId: input.licenseId ?? null,
      email: input.email ?? null,
    },
  });
  return { id: row!.id, expiresAt };
}

const licenseNotFound = () => new AppError("NOT_FOUND", "You have no license with that id.");

/** Asks for a new key: emails a confirmation link to the license's own address. Nothing changes until it is used. */
export async function requestKeyRotation(
  tx: Tx,
  actor: Actor,
  input: { licenseId: string; customerIds: string[] },
): Promise<{ sentTo: string; expiresAt: string }> {
  if (input.customerIds.length === 0) throw licenseNotFound();
  const [found] = await tx
    .select({ id: licenses.id, status: licenses.status, customerId: licenses.customerId, email: customers.email })
    .from(licenses)
    .innerJoin(customers, eq(customers.id, licenses.customerId))
    .where(and(eq(licenses.id, input.licenseId), inArray(licenses.customerId, input.customerIds)));
  if (!found) throw licenseNotFound();
  if (found.status === "revoked") throw new AppError("INVALID_STATE", "This license is revoked; its key cannot be replaced.");
  const { expiresAt } = await createConfirmation(tx, {
    purpose: "rotate-key",
    customerId: found.customerId,
    licenseId: found.id,
    to: found.email,
  });
  await recordAudit(tx, actor, {
    action: "license.key_rotation_requested",
    subjectType: "license",
    subjectId: found.id,
    metadata: { via: "portal", sentTo: found.email },
  });
  return { sentTo: found.email, expiresAt: expiresAt.toISOString() };
}

/**
 * Asks to add an address: emails a confirmation link to it. The signed-in customer's own record is made if they
 * have none yet (someone who signed in before buying). Answers the same whether the address is known or not.
 */
export async function requestEmailLink(
  tx: Tx,
  actor: Actor,
  input: { customerId: string | null; signedInEmail: string; email: string },
): Promise<{ sentTo: string; expiresAt: string }> {
  if (input.email.toLowerCase() === input.signedInEmail.toLowerCase()) {
    throw new AppError("BAD_REQUEST", "That is the address you are signed in with.");
  }
  const customerId = input.customerId ?? (await upsertCustomerByEmail(tx, { email: input.signedInEmail })).id;
  const { expiresAt } = await createConfirmation(tx, { purpose: "add-email", customerId, email: input.email, to: input.email });
  await recordAudit(tx, actor, {
    action: "customer.email_link_requested",
    subjectType: "customer",
    subjectId: customerId,
    metadata: { via: "portal", email: input.email },
  });
  return { sentTo: input.email, expiresAt: expiresAt.toISOString() };
}

export type ConfirmationPreview =
  | { ok: true; purpose: "rotate-key"; keyHint: string; productName: string }
  | { ok: true; purpose: "add-email"; email: string }
  | { ok: false; reason: "INVALID" | "USED" | "EXPIRED" };

async function findByToken(db: DbOrTx, token: string) {
  const [row] = await db.select().from(portalConfirmations).where(eq(portalConfirmations.tokenHash, sha256Hex(token)));
  return row ?? null;
}

/** What the confirm page says before the button is pressed. Reads only. */
export async function previewConfirmation(db: DbOrTx, token: string): Promise<ConfirmationPreview> {
  const row = ConfirmTokenInput.safeParse({ token }).success ? await findByToken(db, token) : null;
  if (!row) return { ok: false, reason: "INVALID" };
  if (row.usedAt) return { ok: false, reason: "USED" };
  if (row.expiresAt <= now()) return { ok: false, reason: "EXPIRED" };
  if (row.purpose === "add-email") return { ok: true, purpose: "add-email", email: row.email! };
  const [license] = await db
    .select({ keyHint: licenses.keyHint, productName: sql<string>`(select pr.name from plans p join products pr on pr.id = p.product_id where p.id = ${licenses.planId})` })
    .from(licenses)
    .where(eq(licenses.id, row.licenseId!));
  if (!license) return { ok: false, reason: "INVALID" };
  return { ok: true, purpose: "rotate-key", keyHint: displayHint(license.keyHint), productName: license.productName };
}

export type ConfirmationOutcome = { purpose: "rotate-key"; sentTo: string } | { purpose: "add-email"; email: string };

/**
 * The confirm button: spends the token (once, under a row lock, so two clicks do one change) and makes the
 * change in the same transaction.
 */
export async function confirmPortalChange(tx: Tx, token: string): Promise<ConfirmationOutcome> {
  const { token: valid } = ConfirmTokenInput.parse({ token });
  const [row] = await tx
    .select()
    .from(portalConfirmations)
    .where(and(eq(portalConfirmations.tokenHash, sha256Hex(valid)), isNull(portalConfirmations.usedAt), gt(portalConfirmations.expiresAt, now())))
    .for("update");
  if (!row) throw new AppError("LINK_EXPIRED", "This link has expired or was already used. Ask for a new one in your account.");
  await tx.update(portalConfirmations).set({ usedAt: now() }).where(eq(portalConfirmations.id, row.id));
  const actor: Actor = { type: "customer", id: row.customerId };

  if (row.purpose === "rotate-key") {
    await rotateLicenseKey(tx, actor, row.licenseId!, {});
    const [c] = await tx.select({ email: customers.email }).from(customers).where(eq(customers.id, row.customerId));
    return { purpose: "rotate-key", sentTo: c!.email };
  }

  const linked = await upsertCustomerByEmail(tx, { email: row.email! });
  if (linked.id !== row.customerId) {
    await tx.insert(customerLinks).values({ customerId: row.customerId, linkedCustomerId: linked.id, createdAt: now() }).onConflictDoNothing();
    await recordAudit(tx, actor, {
      action: "customer.email_linked",
      subjectType: "customer",
      subjectId: row.customerId,
      after: { linkedCustomerId: linked.id, email: linked.email },
      metadata: { via: "portal" },
    });
  }
  return { purpose: "add-email", email: linked.email };
}

/** The customer's own id first, then every address they have proven: whose licenses the portal shows. */
export async function portalCustomerIds(db: DbOrTx, customerId: string | null): Promise<string[]> {
  if (!customerId) return [];
  const rows = await db
    .select({ id: customerLinks.linkedCustomerId })
    .from(customerLinks)
    .where(eq(customerLinks.customerId, customerId))
    .orderBy(customerLinks.createdAt);
  return [customerId, ...rows.map((r) => r.id)];
}

/** The addresses the portal shows licenses for: the signed-in one and those proven since. */
export async function portalEmails(db: DbOrTx, customerId: string | null, signedInEmail: string): Promise<{ email: string; primary: boolean }[]> {
  const ids = await portalCustomerIds(db, customerId);
  const linked = ids.length > 1
    ? await db
        .select({ email: customers.email })
        .from(customerLinks)
        .innerJoin(customers, eq(customers.id, customerLinks.linkedCustomerId))
        .where(eq(customerLinks.customerId, customerId!))
        .orderBy(customerLinks.createdAt)
    : [];
  return [{ email: signedInEmail, primary: true }, ...linked.map((l) => ({ email: l.email, primary: false }))];
}
