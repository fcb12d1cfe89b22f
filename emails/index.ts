import { z } from "zod";

/**
 * The registry of emails Keystead sends: template name -> the props its outbox row stores.
 * Props hold ids and facts only, never secrets; `server/domain/mail/render.tsx` resolves them (and decrypts
 * keys) at send time, so a key never sits in the outbox.
 */
export const TemplatePropsSchemas = {
  "license-issued": z.object({
    licenseIds: z.array(z.uuid()).min(1),
    /** Set when the licenses came from one Stripe checkout. */
    checkoutSessionId: z.string().nullish(),
  }),
  // Lifecycle emails (Stripe-driven changes and sweeps). Dates are ISO-8601 strings.
  "renewal-receipt": z.object({ licenseId: z.uuid(), invoiceId: z.string().nullish(), renewedUntil: z.iso.datetime() }),
  "payment-failed": z.object({
    licenseId: z.uuid(),
    invoiceId: z.string().nullish(),
    /** Until when the license keeps working while payment is fixed. */
    graceEndsAt: z.iso.datetime().nullish(),
    /** Where the customer fixes payment (Stripe's hosted invoice page), when known. */
    fixPaymentUrl: z.url().nullish(),
  }),
  "cancellation-scheduled": z.object({ licenseId: z.uuid(), endsAt: z.iso.datetime() }),
  "license-expiring": z.object({ licenseId: z.uuid(), expiresAt: z.iso.datetime() }),
  "trial-ending": z.object({ licenseId: z.uuid(), trialEndsAt: z.iso.datetime() }),
  /** expiredAt: when it stopped working (its expiry plus the plan's grace days). */
  "license-expired": z.object({ licenseId: z.uuid(), expiredAt: z.iso.datetime() }),
  "license-status-changed": z.object({
    licenseId: z.uuid(),
    status: z.enum(["suspended", "revoked", "reinstated"]),
    /** Plain words the customer may read. */
    reason: z.string().max(500).nullish(),
  }),
  "plan-changed": z.object({
    licenseId: z.uuid(),
    fromPlanId: z.uuid(),
    toPlanId: z.uuid(),
    /** Seats before the change, when known: the email then shows "3 -> 10 seats". */
    previousSeats: z.number().int().positive().nullish(),
  }),
  /** An admin replaced the key; the new key is decrypted at send time, the old one is named by its hint. */
  "license-key-rotated": z.object({ licenseId: z.uuid(), previousKeyHint: z.string().min(1).max(10) }),
  /** To the operators: an outgoing webhook endpoint failed every delivery for five days and was disabled. */
  "webhook-disabled": z.object({ endpointId: z.uuid(), url: z.string().min(1), failingSince: z.iso.datetime() }),
  /** To each operator: a customer asks for a manual reset of all devices (reset_requests row). */
  "reset-requested": z.object({ requestId: z.uuid() }),
  /** To the customer: their manual reset request was approved; `removed` devices were deactivated. */
  "devices-reset": z.object({ licenseId: z.uuid(), removed: z.number().int().min(0) }),
  // The sign-in link is a secret: it is stored sealed (server/domain/secret-box.ts, purpose "sign-in-link")
  // and opened only at send time.
  "sign-in-link": z.object({ sealedUrl: z.string().min(1), expiresAt: z.iso.datetime() }),
  // A portal change waiting for a click (a key replacement, another address proven): the link is sealed like
  // the sign-in link (purpose "portal-confirm-link").
  "portal-confirm": z.object({
    purpose: z.enum(["rotate-key", "add-email"]),
    sealedUrl: z.string().min(1),
    expiresAt: z.iso.datetime(),
    licenseId: z.uuid().nullish(),
    email: z.string().max(320).nullish(),
  }),
  // The trial confirm link is a secret too (purpose "trial-link", server/domain/shop/trials.ts).
  "trial-link": z.object({ sealedUrl: z.string().min(1), planId: z.uuid(), expiresAt: z.iso.datetime() }),
} as const;

export type TemplateName = keyof typeof TemplatePropsSchemas;
export type TemplateProps = { [K in TemplateName]: z.infer<(typeof TemplatePropsSchemas)[K]> };

export const isTemplateName = (name: string): name is TemplateName => Object.hasOwn(TemplatePropsSchemas, name);
