import crypto from "node:crypto";
import { Webhook } from "standardwebhooks";
import { open, seal } from "@/server/domain/secret-box";

/** The purpose webhook secrets are sealed under (server/domain/sealed-fields.ts lists the columns). */
export const WEBHOOK_SECRET_PURPOSE = "webhook-secret";

/** A new signing secret: "whsec_" + base64 of 32 random bytes, as Standard Webhooks libraries expect. */
export function generateWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString("base64")}`;
}

export const sealWebhookSecret = (secret: string) => seal(WEBHOOK_SECRET_PURPOSE, secret);
export const openWebhookSecret = (sealed: string) => open(WEBHOOK_SECRET_PURPOSE, sealed).toString("utf8");

/** A few characters to tell secrets apart in the admin app without showing them ("whsec_AbC1…"). */
export const secretHint = (secret: string) => `${secret.slice(0, 10)}…`;

/**
 * The three Standard Webhooks headers for one attempt. webhook-signature carries one `v1,<sig>` per secret, space
 * separated: during a rotation both the new and the previous secret sign, so a receiver still on the old one
 * verifies (the specification's own way to rotate). The signing itself is the standardwebhooks library's.
 */
export function signedHeaders(msgId: string, sentAt: Date, body: string, secrets: string[]): Record<string, string> {
  const signatures = secrets.map((s) => new Webhook(s).sign(msgId, sentAt, body));
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
    "webhook-signature": signatures.join(" "),
  };
}
