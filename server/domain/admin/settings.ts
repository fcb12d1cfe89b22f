import { reconciliationStatus } from "@/server/domain/billing/reconcile";
import { desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { appState, signingKeys } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { RECONCILE_REQUESTED_KEY } from "@/server/domain/admin/stripe-reconcile";
import type { WebhookRejections } from "@/server/domain/billing/webhook";
import { now } from "@/server/domain/clock";
import { maxOfflineTokenLifetimeSeconds } from "@/server/domain/tokens/offline-token";
import { rotateSigningKey } from "@/server/domain/tokens/keyring";
import { emailDeliveryStatus, type EmailDeliveryStatus } from "@/server/domain/mail/waiting";
import { emailProvider, env, type Env } from "@/server/env";
import { webhookState, type WebhookLastSeen } from "./dashboard";

/**
 * The settings page: the signing keys behind offline tokens (and their rotation), and whether Stripe and
 * email are wired up. API tokens live in ./api-tokens.ts. Secrets themselves are never shown, only whether
 * they are set.
 */

export type SigningKeyView = {
  kid: string;
  publicKey: string;
  createdAt: string;
  retiredAt: string | null;
  unpublishAt: string | null;
  /** "signing": signs new tokens; "published": retired, still in the JWKS; "unpublished": gone from the JWKS. */
  state: "signing" | "published" | "unpublished";
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function listSigningKeys(tx: DbOrTx): Promise<SigningKeyView[]> {
  const rows = await tx.select().from(signingKeys).orderBy(desc(signingKeys.createdAt));
  const at = now().getTime();
  // The newest un-retired key signs (keyring.activeSigningKey); an older un-retired one can only exist after
  // a race and is published but not used.
  const signing = rows.find((r) => !r.retiredAt)?.kid;
  return rows.map((r) => ({
    kid: r.kid,
    publicKey: r.publicKey,
    createdAt: r.createdAt.toISOString(),
    retiredAt: iso(r.retiredAt),
    unpublishAt: iso(r.unpublishAt),
    state: r.kid === signing ? "signing" : r.unpublishAt && r.unpublishAt.getTime() <= at ? "unpublished" : "published",
  }));
}

/**
 * A new key signs from now on; every key signing until now is retired but stays in the JWKS for the longest
 * lifetime any token it signed can have, so no offline token already handed out stops verifying.
 */
export async function rotateSigningKeys(tx: Tx, actor: Actor) {
  // The same lock as the first-start key creation: two rotations at once would leave two keys signing.
  await tx.execute(sql`select pg_advisory_xact_lock(72617)`);
  const retiring = await tx.select({ kid: signingKeys.kid }).from(signingKeys).where(isNull(signingKeys.retiredAt));
  const keepPublishedSeconds = await maxOfflineTokenLifetimeSeconds(tx);
  const kid = await rotateSigningKey(tx, keepPublishedSeconds);
  const retired = retiring.length
    ? await tx
        .select({ kid: signingKeys.kid, unpublishAt: signingKeys.unpublishAt })
        .from(signingKeys)
        .where(
          inArray(
            signingKeys.kid,
            retiring.map((r) => r.kid),
          ),
        )
    : [];
  await recordAudit(tx, actor, {
    action: "signing_key.rotated",
    subjectType: "signing_key",
    subjectId: kid,
    before: { signing: retiring.map((r) => r.kid) },
    after: {
      signing: kid,
      retired: retired.map((r) => ({ kid: r.kid, unpublishAt: iso(r.unpublishAt) })),
      keepPublishedSeconds,
    },
  });
  return { kid, keepPublishedSeconds };
}

export type IntegrationStatus = {
  appUrl: string;
  stripe: {
    secretKeySet: boolean;
    webhookSecretSet: boolean;
    /** Set only when STRIPE_API_URL points somewhere other than Stripe (a fake in tests, a proxy). */
    apiUrl: string | null;
    webhookUrl: string;
    webhookLastSeen: WebhookLastSeen | null;
    /** Deliveries refused (bad signature, no secret): "arriving but rejected", told apart from "never seen". */
    webhookRejected: WebhookRejections | null;
    /** Reconciliation needs STRIPE_SECRET_KEY: without it, it is off, not failing. */
    reconcileOff: boolean;
    reconcileRequestedAt: string | null;
    /** The last reconciliation run: when, what Stripe listed, what was missing here, and any error. */
    reconcileLastRun: { finishedAt: string; listed: number; stored: number; storedIds: string[]; error: string | null } | null;
  };
  email: EmailDeliveryStatus & { provider: "resend" | "smtp" | "dev"; from: string };
  admins: number;
  bootstrapApiTokenSet: boolean;
  offlineTokenTtlSeconds: number;
};

export async function integrationStatus(tx: DbOrTx, settings: Env = env()): Promise<IntegrationStatus> {
  const [[requested], { lastRun }, webhook, delivery] = await Promise.all([
    tx.select({ value: appState.value }).from(appState).where(eq(appState.key, RECONCILE_REQUESTED_KEY)),
    reconciliationStatus(tx),
    webhookState(tx),
    emailDeliveryStatus(tx, settings),
  ]);
  const reconcile = requested?.value;
  return {
    appUrl: settings.APP_URL,
    stripe: {
      secretKeySet: Boolean(settings.STRIPE_SECRET_KEY),
      webhookSecretSet: Boolean(settings.STRIPE_WEBHOOK_SECRET),
      apiUrl: settings.STRIPE_API_URL ?? null,
      webhookUrl: `${settings.APP_URL}/api/stripe/webhook`,
      ...webhook,
      reconcileOff: !settings.STRIPE_SECRET_KEY,
      reconcileRequestedAt: typeof reconcile === "string" ? reconcile : null,
      reconcileLastRun: lastRun
        ? { finishedAt: lastRun.finishedAt, listed: lastRun.listed, stored: lastRun.stored, storedIds: lastRun.storedIds, error: lastRun.error }
        : null,
    },
    email: { ...delivery, provider: emailProvider(settings), from: settings.EMAIL_FROM },
    admins: settings.ADMIN_EMAILS.length,
    bootstrapApiTokenSet: Boolean(settings.ADMIN_API_TOKEN),
    offlineTokenTtlSeconds: settings.OFFLINE_TOKEN_TTL,
  };
}
