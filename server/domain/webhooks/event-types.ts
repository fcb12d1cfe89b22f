/**
 * The events Keystead sends to webhook endpoints (CONTRACT.md "Outgoing webhooks"), with what each means. Every
 * payload is `{ type, timestamp, data }`; `data.license` has the License shape plus `customer`,
 * `data.activation` the Activation shape. Payload version: these shapes are v1; a breaking change gets new types.
 */
export const WEBHOOK_EVENT_TYPES = {
  "license.created": "A license was issued (checkout, by hand, import, trial).",
  "license.renewed": "A subscription renewal moved the expiry later.",
  "license.updated": "Plan, seats, expiry or billing status changed (data.changed names the fields).",
  "license.suspended": "Suspended by an admin, a dispute or a paused subscription.",
  "license.reinstated": "A suspended license works again.",
  "license.revoked": "Revoked for good (by an admin, a refund or a lost dispute).",
  "license.expired": "Its expiry plus the plan's grace days has passed.",
  "license.key_rotated": "The key was replaced; the old one no longer works (the key itself is never sent).",
  "activation.created": "A machine took a seat.",
  "activation.deleted": "A machine's seat was freed (deactivated, reset, lapsed, or fewer seats).",
  "payment.failed": "A subscription payment failed; the license is past due.",
  "customer.updated": "A customer's email changed.",
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_TYPES;
export const WEBHOOK_EVENT_TYPE_LIST = Object.keys(WEBHOOK_EVENT_TYPES) as [WebhookEventType, ...WebhookEventType[]];

/** Sent only by "Send test event": never emitted by a change, and every endpoint may receive it. */
export const WEBHOOK_TEST_EVENT = "webhook.test";
