import { z } from "zod";
import { ACTOR_TYPES, API_TOKEN_SCOPES, EMAIL_STATUSES, LICENSE_STATUSES, STRIPE_EVENT_STATUSES } from "@/server/db/schema";
import type { ApiTokenView } from "@/server/domain/admin/api-tokens";
import type { AuditEntryView } from "@/server/domain/admin/audit";
import type { AdminCustomerRow, CustomerDetail } from "@/server/domain/admin/customers";
import type { OutboxRow } from "@/server/domain/admin/emails";
import type { StripeEventDetail, StripeEventRow } from "@/server/domain/admin/events";
import type { AdminLicenseRow } from "@/server/domain/admin/search";
import type { SigningKeyView } from "@/server/domain/admin/settings";
import type { PlanView } from "@/server/domain/catalog/plans";
import type { ProductView } from "@/server/domain/catalog/products";
import type { ActivationView, AdminActivationView, LicenseView, LicenseWithCustomer } from "@/server/domain/licensing/view";

/**
 * The answers of the REST routes as zod schemas: the OpenAPI document (./openapi.ts) is generated from them, the
 * compiler keeps each equal to the domain type the route returns (the `Same` checks below), and the API tests
 * parse real answers with them. Request schemas are not here: they are the domain's own (server/domain/**),
 * the very ones the routes parse with.
 */

export const Instant = z.string().meta({ format: "date-time" });
const Uuid = z.string().meta({ format: "uuid" });
const nextCursor = z.string().nullable().meta({ description: "Pass as ?cursor= for the next page; null on the last page" });

/** The one list shape: `{ data, nextCursor }` (nextCursor is always null on lists that fit one page). */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor });

// ---- Public shapes (CONTRACT.md "Shapes")

export const License = z.object({
  id: Uuid,
  status: z.enum(LICENSE_STATUSES),
  product: z.string().meta({ description: "Product slug" }),
  plan: z.string().meta({ description: "Plan slug" }),
  expiresAt: Instant.nullable().meta({ description: "null: perpetual" }),
  entitlements: z.array(z.string()),
  maxActivations: z.number().int(),
  activations: z.number().int(),
});

export const Activation = z.object({
  id: Uuid,
  fingerprint: z.string(),
  name: z.string().nullable(),
  platform: z.string().nullable(),
  createdAt: Instant,
  lastSeenAt: Instant,
});

export const AdminActivation = Activation.extend({
  airGapped: z.boolean().meta({ description: "Made by an activation file (a machine that never goes online)" }),
});

export const AdminLicense = License.extend({ customer: z.object({ id: Uuid, email: z.string() }) });

export const Product = z.object({
  id: Uuid,
  slug: z.string(),
  name: z.string(),
  externalIds: z.array(z.string()).meta({ description: "Ids other systems know it by (a storefront template's product ids)" }),
  createdAt: Instant,
  archivedAt: Instant.nullable(),
});

export const Plan = z.object({
  id: Uuid,
  product: z.string().meta({ description: "Product slug" }),
  slug: z.string(),
  name: z.string(),
  seats: z.number().int(),
  durationDays: z.number().int().nullable(),
  graceDays: z.number().int(),
  entitlements: z.array(z.string()),
  stripePriceIds: z.array(z.string()),
  offlineTokenTtlSeconds: z.number().int().nullable(),
  heartbeatWindowSeconds: z.number().int().nullable(),
  airGappedTtlDays: z.number().int().nullable().meta({ description: "Activation file lifetime; null: no activation files" }),
  trialDays: z.number().int().nullable().meta({ description: "Card-free trial length in days; null: no trial" }),
  resetCooldownDays: z.number().int().meta({ description: "Self-service reset of all devices at most once per this many days (0: any time)" }),
  externalIds: z.array(z.string()).meta({ description: "Ids other systems know it by (a storefront template's tier ids)" }),
  createdAt: Instant,
  archivedAt: Instant.nullable().meta({ description: "Retired: issues no new licenses" }),
});

export const ErrorBody = z.object({
  error: z.object({
    code: z.string().meta({ description: "UPPER_SNAKE_CASE, stable" }),
    message: z.string().meta({ description: "A human sentence" }),
    details: z.unknown().optional(),
  }),
});

export const ValidateResponse = z.object({
  valid: z.boolean(),
  code: z.enum(["VALID", "NOT_FOUND", "SUSPENDED", "REVOKED", "EXPIRED", "NOT_ACTIVATED", "PRODUCT_MISMATCH", "ENTITLEMENTS_MISSING"]),
  license: License.nullable(),
  activation: Activation.nullable(),
});
export const ActivationResponse = z.object({
  activation: Activation,
  license: License,
  token: z.string().meta({ description: "Offline token: compact JWS, EdDSA (Ed25519); verify with a key from /api/v1/jwks" }),
});
export const DeactivateResponse = z.object({ deactivated: z.literal(true) });
export const Jwks = z.object({
  keys: z.array(
    z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string(), kid: z.string(), alg: z.literal("EdDSA"), use: z.literal("sig") }),
  ),
});
export const Health = z.object({
  ok: z.boolean(),
  database: z.enum(["ok", "unavailable"]),
  worker: z.enum(["ok", "off", "starting", "stopped", "failed"]).meta({ description: "off: WORKER=off; anything but ok and off answers 503" }),
});

export const WebhookReceived = z.object({ received: z.literal(true) });

// ---- Management API answers

export const ProductResponse = z.object({ product: Product });
export const ProductList = pageOf(Product);
export const PlanResponse = z.object({ plan: Plan });
export const PlanList = pageOf(Plan);
const KeyProp = z.string().meta({ description: "The full license key. Shown in this answer only: store or pass it on now." });
export const IssuedLicense = z.object({ license: AdminLicense, key: KeyProp });
export const LicenseList = pageOf(AdminLicense);
export const LicenseDetail = z.object({ license: AdminLicense, activations: z.array(AdminActivation) });
export const LicenseActionResult = z.object({ license: AdminLicense });
export const RotatedKey = z.object({ license: AdminLicense, key: KeyProp });
export const ActivationFile = z.object({
  activation: AdminActivation,
  file: z.string().meta({
    description:
      'The activation file\'s text: a JSON document { "format": "keystead-activation-file-v1", "license", "product", "fingerprint", "expiresAt", "token" } whose token is the offline token; the SDK loads it with loadActivationFile(text)',
  }),
  expiresAt: Instant.meta({ description: "When the file stops working (the token's exp)" }),
});
export const ReconcileQueued = z.object({ queued: z.literal(true) });
export const EmailResent = z.object({ outboxId: Uuid.meta({ description: "The queued email (GET /api/v1/admin/emails)" }), to: z.string() });

export const LicenseSearchRow = z.object({
  id: Uuid,
  keyHint: z.string().meta({ description: "The key's last characters; never the key" }),
  status: z.enum(LICENSE_STATUSES),
  statusReason: z.string().nullable(),
  product: z.object({ slug: z.string(), name: z.string() }),
  plan: z.object({ id: Uuid, slug: z.string(), name: z.string() }),
  customer: z.object({ id: Uuid, email: z.string() }),
  maxActivations: z.number().int(),
  activations: z.number().int(),
  expiresAt: Instant.nullable(),
  source: z.string(),
  createdAt: Instant,
});
export const LicenseSearchPage = pageOf(LicenseSearchRow);

export const Customer = z.object({
  id: Uuid,
  email: z.string(),
  name: z.string().nullable(),
  stripeCustomerId: z.string().nullable(),
  licenses: z.number().int(),
  createdAt: Instant,
  deletedAt: Instant.nullable(),
});
export const CustomerPage = pageOf(Customer);
export const CustomerDetailResponse = z.object({
  customer: Customer,
  licenses: z.array(LicenseSearchRow),
  emails: z.array(
    z.object({
      id: Uuid,
      template: z.string(),
      to: z.string(),
      subject: z.string().nullable(),
      status: z.string(),
      attempts: z.number().int(),
      lastError: z.string().nullable(),
      createdAt: Instant,
      sentAt: Instant.nullable(),
    }),
  ),
  payments: z.array(
    z.object({
      id: Uuid,
      kind: z.string(),
      status: z.string(),
      amount: z.number().int().meta({ description: "Minor units (cents)" }),
      amountRefunded: z.number().int(),
      currency: z.string().nullable(),
      billingReason: z.string().nullable(),
      periodStart: Instant.nullable(),
      periodEnd: Instant.nullable(),
      licenseId: Uuid.nullable(),
      stripeCheckoutSessionId: z.string().nullable(),
      stripeInvoiceId: z.string().nullable(),
      stripeSubscriptionId: z.string().nullable(),
      createdAt: Instant,
    }),
  ),
  stripe: z.array(
    z.object({
      licenseId: Uuid,
      keyHint: z.string(),
      checkoutSessionId: z.string().nullable(),
      subscriptionId: z.string().nullable(),
      paymentIntentId: z.string().nullable(),
      priceId: z.string().nullable(),
      events: z.array(z.object({ id: z.string(), type: z.string(), status: z.string(), receivedAt: Instant })),
    }),
  ),
});
export const CustomerEmailChanged = z.object({ customer: z.object({ id: Uuid, email: z.string() }) });

export const AuditEntry = z.object({
  id: z.number().int(),
  at: Instant,
  actor: z.object({
    type: z.enum(ACTOR_TYPES),
    id: z.string().nullable().meta({ description: "admin: their email; api_token: the token's id (\"bootstrap\": ADMIN_API_TOKEN)" }),
    name: z.string().nullable().optional().meta({ description: "api_token: the token's name" }),
  }),
  action: z.string(),
  subject: z.object({ type: z.string(), id: z.string() }),
  before: z.unknown(),
  after: z.unknown(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
});
export const AuditPage = pageOf(AuditEntry);

export const StripeEvent = z.object({
  id: z.string(),
  type: z.string(),
  status: z.enum(STRIPE_EVENT_STATUSES),
  objectId: z.string().nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  receivedVia: z.string(),
  livemode: z.boolean(),
  stripeCreatedAt: Instant,
  receivedAt: Instant,
  processedAt: Instant.nullable(),
});
export const StripeEventPage = pageOf(StripeEvent);
export const StripeEventDetailResponse = z.object({
  event: StripeEvent.extend({
    apiVersion: z.string().nullable(),
    payload: z.unknown().meta({ description: "The event as Stripe sent it" }),
    result: z.record(z.string(), z.unknown()).nullable(),
  }),
  audit: z.array(AuditEntry),
  licenseIds: z.array(Uuid),
});
export const StripeEventReplayed = z.object({ event: StripeEvent });

export const Email = z.object({
  id: Uuid,
  template: z.string(),
  to: z.string(),
  customerId: Uuid.nullable(),
  subject: z.string().nullable(),
  status: z.enum(EMAIL_STATUSES),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  provider: z.string().nullable(),
  nextAttemptAt: Instant.nullable(),
  createdAt: Instant,
  sentAt: Instant.nullable(),
});
export const EmailPage = pageOf(Email);
export const EmailRetried = z.object({ email: Email });

export const SigningKey = z.object({
  kid: z.string(),
  publicKey: z.string(),
  createdAt: Instant,
  retiredAt: Instant.nullable(),
  unpublishAt: Instant.nullable().meta({ description: "When it leaves the JWKS (every token it signed has expired by then)" }),
  state: z.enum(["signing", "published", "unpublished"]),
});
export const SigningKeyList = pageOf(SigningKey);
export const SigningKeyRotated = z.object({
  kid: z.string().meta({ description: "The new signing key" }),
  keepPublishedSeconds: z.number().int().meta({ description: "How long the retired keys stay in the JWKS" }),
});

export const ApiToken = z.object({
  id: Uuid,
  name: z.string(),
  scopes: z.array(z.enum(API_TOKEN_SCOPES)),
  expiresAt: Instant.nullable().meta({ description: "null: never expires" }),
  tokenStart: z.string().meta({ description: "The first characters, to tell tokens apart" }),
  createdBy: z.string().nullable(),
  createdAt: Instant,
  lastUsedAt: Instant.nullable().meta({ description: "Precise to a minute" }),
  revokedAt: Instant.nullable(),
});
export const ApiTokenList = pageOf(ApiToken);
export const ApiTokenCreated = z.object({
  token: ApiToken,
  secret: z.string().meta({ description: "The bearer token (ks_…). Shown in this answer only." }),
});
export const ApiTokenRevoked = z.object({ token: ApiToken });

// The compiler keeps these shapes equal to what the domain returns.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const shapesMatch: [
  Same<z.infer<typeof License>, LicenseView>,
  Same<z.infer<typeof Activation>, ActivationView>,
  Same<z.infer<typeof AdminActivation>, AdminActivationView>,
  Same<z.infer<typeof AdminLicense>, LicenseWithCustomer>,
  Same<z.infer<typeof Product>, ProductView>,
  Same<z.infer<typeof Plan>, PlanView>,
  Same<z.infer<typeof LicenseSearchRow>, AdminLicenseRow>,
  Same<z.infer<typeof Customer>, AdminCustomerRow>,
  Same<z.infer<typeof CustomerDetailResponse>, CustomerDetail>,
  Same<z.infer<typeof AuditEntry>, AuditEntryView>,
  Same<z.infer<typeof StripeEvent>, StripeEventRow>,
  Same<z.infer<typeof StripeEventDetailResponse>, StripeEventDetail>,
  Same<z.infer<typeof Email>, OutboxRow>,
  Same<z.infer<typeof SigningKey>, SigningKeyView>,
  Same<z.infer<typeof ApiToken>, ApiTokenView>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void shapesMatch;
