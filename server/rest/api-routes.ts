import { z } from "zod";
import type { ApiTokenScope } from "@/server/db/schema";
import { CreateApiTokenInput } from "@/server/domain/admin/api-tokens";
import { ListAuditInput } from "@/server/domain/admin/audit";
import { ChangeCustomerEmailInput, SearchCustomersInput } from "@/server/domain/admin/customers";
import { ListEmailsInput } from "@/server/domain/admin/emails";
import { ListStripeEventsInput } from "@/server/domain/admin/events";
import { SearchLicensesInput } from "@/server/domain/admin/search";
import { CreatePlanInput, UpdatePlanFields } from "@/server/domain/catalog/plans";
import { CreateProductInput, UpdateProductFields } from "@/server/domain/catalog/products";
import type { ErrorCode } from "@/server/domain/errors";
import { ActivationFileInput } from "@/server/domain/licensing/activation-file";
import { ChangePlanInput } from "@/server/domain/licensing/admin-actions";
import { ActivateLicenseInput, DeactivateLicenseInput, HeartbeatInput, ValidateLicenseInput } from "@/server/domain/licensing/inputs";
import { LICENSE_ACTIONS } from "@/server/domain/licensing/lifecycle";
import { ListLicensesQuery } from "@/server/domain/licensing/list";
import { IssueManualLicenseInput } from "@/server/domain/licensing/manual";
import * as S from "./api-schemas";
import { ExportDocument, ExportQuery } from "@/server/domain/admin/export";
import {
  CreateWebhookInput,
  ListWebhookDeliveriesInput,
  ReplayWebhookInput,
  UpdateWebhookInput,
  WebhookAnswer,
  WebhookCreated,
  WebhookDeliveryAnswer,
  WebhookDeliveryList,
  WebhookList,
  WebhookReplayed,
  WebhookSecretRotated,
} from "@/server/domain/webhooks/endpoints";
import { ImportJobView, ImportQuery, ImportResult } from "@/server/domain/import";
import {
  ClaimByEmailAnswer,
  ClaimByEmailInput,
  KeyCommanderError,
  PublicResetActivationsInput,
  PublicResetAnswer,
  ReportWebsiteErrorAnswer,
  ReportWebsiteErrorInput,
  ResetByUserIdAnswer,
  ResetByUserIdInput,
  UserEntitlements,
} from "@/server/domain/integrations/key-commander";
import {
  CreateReleaseFields,
  CreateReleaseOutput,
  LatestReleaseInput,
  LatestReleaseOutput,
  ListReleasesOutput,
  ListReleasesQuery,
} from "@/server/domain/releases/inputs";
import { CheckoutSessionStatus, CreateCheckoutInput, CreateCheckoutOutput } from "@/server/domain/shop/checkout";
import { ConfirmTrialInput, ConfirmTrialOutput, RequestTrialInput, RequestTrialOutput } from "@/server/domain/shop/trials";

/**
 * The route table: every REST route, once. The OpenAPI document (./openapi.ts) is generated from it, and a
 * management route file passes its entry to adminRoute, so the scope it enforces and the schema it parses with
 * are the ones documented: `export const GET = adminRoute(API.searchCustomers, handler)`.
 * test/openapi.test.ts fails for a route file under app/api that is not in this table.
 *
 * `input` is what the route parses: the query string for GET, the JSON body otherwise.
 */
export type ApiRoute = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** OpenAPI path: dynamic segments as {name}. */
  path: string;
  summary: string;
  description?: string;
  tag:
    | "licenses"
    | "keys"
    | "system"
    | "catalog"
    | "customers"
    | "billing"
    | "emails"
    | "audit"
    | "tokens"
    | "releases"
    | "shop"
    | "data"
    | "key-commander"
    | "webhooks";
  /** Management API routes: the scope a token needs (adminRoute enforces it). Absent: a public route. */
  scope?: ApiTokenScope;
  input?: z.ZodType;
  /** The body may be left out entirely. */
  bodyOptional?: boolean;
  /** The body's media type when it is not JSON (uploads, imported files). */
  inputType?: string;
  /** Query parameters of a route that also takes a body. */
  query?: z.ZodObject;
  pathParams?: Record<string, string>;
  responses: Record<number, { description: string; schema: z.ZodType; contentType?: string }>;
  errors: ErrorCode[];
};

const PUBLIC_ERRORS: ErrorCode[] = ["BAD_REQUEST", "PAYLOAD_TOO_LARGE", "RATE_LIMITED"];
/** Every management route can answer these: no token, a token without the scope, the bad-token limit. */
export const ADMIN_ERRORS: ErrorCode[] = ["UNAUTHORIZED", "FORBIDDEN", "RATE_LIMITED"];
const WRITE_ERRORS: ErrorCode[] = [...ADMIN_ERRORS, "BAD_REQUEST", "IDEMPOTENCY_CONFLICT"];
const LICENSE_ID = { id: "License id (uuid); anything else is 404 NOT_FOUND" };
const PRODUCT_SLUG = { slug: "Product slug" };
const PLAN_SLUG = { slug: "Plan slug" };

/**
 * A GET list's query schema: the domain's list input with `limit` read from the query string (text) as a number.
 * Unknown query parameters are ignored (cache busters), unlike unknown body keys.
 */
const listQuery = <T extends z.ZodObject>(schema: T, max: number, def: number) =>
  schema.extend({ limit: z.coerce.number().int().min(1).max(max).default(def) });

// The query schemas of the list routes (named for the document).
export const SearchCustomersQuery = listQuery(SearchCustomersInput, 100, 25);
export const SearchLicensesQuery = listQuery(SearchLicensesInput, 100, 25);
export const ListStripeEventsQuery = listQuery(ListStripeEventsInput, 100, 25);
export const ListEmailsQuery = listQuery(ListEmailsInput, 100, 25);
export const ListAuditQuery = listQuery(ListAuditInput, 200, 50);

const pascal = (s: string) => s.replace(/(^|-)([a-z])/g, (_, _dash, c: string) => c.toUpperCase());
const camel = (s: string) => pascal(s).charAt(0).toLowerCase() + pascal(s).slice(1);

const licenseActionRoutes = Object.fromEntries(
  Object.entries(LICENSE_ACTIONS).map(([name, action]): [string, ApiRoute] => [
    `${camel(name)}License`,
    {
      method: "POST",
      path: `/api/v1/admin/licenses/{id}/${name}`,
      summary: action.summary,
      tag: "licenses",
      scope: "licenses:write",
      input: action.input,
      bodyOptional: action.input.safeParse({}).success,
      pathParams: LICENSE_ID,
      responses: {
        200: { description: "Done", schema: "returnsKey" in action && action.returnsKey ? S.RotatedKey : S.LicenseActionResult },
      },
      errors: [...WRITE_ERRORS, "NOT_FOUND", "INVALID_STATE"],
    },
  ]),
);

const WEBHOOK_ID = { id: "Webhook endpoint id (uuid)" };
const ReleaseFile = z.string().meta({ format: "binary", description: "The release file" });
const KC_ERRORS = {
  401: { description: "Missing or wrong X-Internal-API-Key", schema: KeyCommanderError },
  422: { description: "The body does not match", schema: KeyCommanderError },
} as const;

const routes = {
  // ---- Public routes for client software (server/rest/license-routes.ts)
  validateLicense: {
    method: "POST",
    path: "/api/v1/licenses/validate",
    summary: "Check a key (and optionally a machine, product, entitlements); 200 for every outcome",
    tag: "licenses",
    input: ValidateLicenseInput,
    responses: { 200: { description: "The verdict", schema: S.ValidateResponse } },
    errors: PUBLIC_ERRORS,
  },
  activateLicense: {
    method: "POST",
    path: "/api/v1/licenses/activate",
    summary: "Activate a machine; idempotent per fingerprint; concurrent activations never exceed the seats",
    tag: "licenses",
    input: ActivateLicenseInput,
    responses: {
      201: { description: "New activation", schema: S.ActivationResponse },
      200: { description: "This fingerprint was already activated", schema: S.ActivationResponse },
    },
    errors: [...PUBLIC_ERRORS, "NOT_FOUND", "SUSPENDED", "REVOKED", "EXPIRED", "PRODUCT_MISMATCH", "TOO_MANY_ACTIVATIONS"],
  },
  deactivateLicense: {
    method: "POST",
    path: "/api/v1/licenses/deactivate",
    summary: "Free a machine's seat",
    tag: "licenses",
    input: DeactivateLicenseInput,
    responses: { 200: { description: "Deactivated", schema: S.DeactivateResponse } },
    errors: [...PUBLIC_ERRORS, "NOT_FOUND", "NOT_ACTIVATED"],
  },
  heartbeat: {
    method: "POST",
    path: "/api/v1/licenses/heartbeat",
    summary: "Record that a machine is alive and get a fresh offline token",
    tag: "licenses",
    input: HeartbeatInput,
    responses: { 200: { description: "Seen", schema: S.ActivationResponse } },
    errors: [...PUBLIC_ERRORS, "NOT_FOUND", "NOT_ACTIVATED", "SUSPENDED", "REVOKED", "EXPIRED", "PRODUCT_MISMATCH"],
  },
  jwks: {
    method: "GET",
    path: "/api/v1/jwks",
    summary: "Public keys that verify offline tokens (also at /.well-known/jwks.json)",
    tag: "keys",
    responses: { 200: { description: "JSON Web Key Set", schema: S.Jwks } },
    errors: ["RATE_LIMITED"],
  },
  jwksWellKnown: {
    method: "GET",
    path: "/.well-known/jwks.json",
    summary: "The same JSON Web Key Set as /api/v1/jwks, where JOSE libraries look for it",
    tag: "keys",
    responses: { 200: { description: "JSON Web Key Set", schema: S.Jwks } },
    errors: ["RATE_LIMITED"],
  },
  health: {
    method: "GET",
    path: "/api/health",
    summary: "Ready to serve (database reachable, migrations applied); 503 with ok:false otherwise",
    tag: "system",
    responses: { 200: { description: "Healthy", schema: S.Health }, 503: { description: "Not healthy", schema: S.Health } },
    errors: [],
  },
  openApiDocument: {
    method: "GET",
    path: "/api/v1/openapi.json",
    summary: "This document",
    tag: "system",
    responses: { 200: { description: "OpenAPI 3.1", schema: z.record(z.string(), z.unknown()) } },
    errors: [],
  },
  apiReference: {
    method: "GET",
    path: "/api/v1/docs",
    summary: "This document as a browsable reference page (HTML)",
    tag: "system",
    responses: { 200: { description: "The reference page", schema: z.string(), contentType: "text/html" } },
    errors: [],
  },

  stripeWebhook: {
    method: "POST",
    path: "/api/stripe/webhook",
    summary: "Stripe's webhook: a signed event is stored and its processing queued in one transaction, then 200",
    description:
      "Verified against the raw body with STRIPE_WEBHOOK_SECRET (header Stripe-Signature). A redelivered event is answered 200 and never processed twice.",
    tag: "billing",
    responses: { 200: { description: "Stored (or already was)", schema: S.WebhookReceived } },
    errors: ["INVALID_SIGNATURE", "PAYLOAD_TOO_LARGE", "RATE_LIMITED"],
  },

  // ---- Catalog
  listProducts: {
    method: "GET",
    path: "/api/v1/admin/products",
    summary: "List products",
    tag: "catalog",
    scope: "read",
    responses: { 200: { description: "Every product, by slug", schema: S.ProductList } },
    errors: ADMIN_ERRORS,
  },
  createProduct: {
    method: "POST",
    path: "/api/v1/admin/products",
    summary: "Create a product",
    tag: "catalog",
    scope: "catalog:write",
    input: CreateProductInput,
    responses: { 201: { description: "Created", schema: S.ProductResponse } },
    errors: [...WRITE_ERRORS, "ALREADY_EXISTS"],
  },
  updateProduct: {
    method: "PATCH",
    path: "/api/v1/admin/products/{slug}",
    summary: "Rename a product (its slug never changes)",
    tag: "catalog",
    scope: "catalog:write",
    pathParams: PRODUCT_SLUG,
    input: UpdateProductFields,
    responses: { 200: { description: "Changed", schema: S.ProductResponse } },
    errors: [...WRITE_ERRORS, "PRODUCT_NOT_FOUND"],
  },
  retireProduct: {
    method: "POST",
    path: "/api/v1/admin/products/{slug}/retire",
    summary: "Retire a product: it takes no new plans; its licenses and plans keep working (retire its plans to stop issuing)",
    tag: "catalog",
    scope: "catalog:write",
    pathParams: PRODUCT_SLUG,
    responses: { 200: { description: "Retired (or already was)", schema: S.ProductResponse } },
    errors: [...WRITE_ERRORS, "PRODUCT_NOT_FOUND"],
  },
  unretireProduct: {
    method: "POST",
    path: "/api/v1/admin/products/{slug}/unretire",
    summary: "Bring a retired product back",
    tag: "catalog",
    scope: "catalog:write",
    pathParams: PRODUCT_SLUG,
    responses: { 200: { description: "Active again (or already was)", schema: S.ProductResponse } },
    errors: [...WRITE_ERRORS, "PRODUCT_NOT_FOUND"],
  },
  listPlans: {
    method: "GET",
    path: "/api/v1/admin/plans",
    summary: "List plans with their Stripe prices",
    tag: "catalog",
    scope: "read",
    responses: { 200: { description: "Every plan, by product and slug", schema: S.PlanList } },
    errors: ADMIN_ERRORS,
  },
  createPlan: {
    method: "POST",
    path: "/api/v1/admin/plans",
    summary: "Create a plan of a product and bind its Stripe prices (a price issues exactly one plan)",
    tag: "catalog",
    scope: "catalog:write",
    input: CreatePlanInput,
    responses: { 201: { description: "Created", schema: S.PlanResponse } },
    errors: [...WRITE_ERRORS, "PRODUCT_NOT_FOUND", "ALREADY_EXISTS", "INVALID_STATE"],
  },
  updatePlan: {
    method: "PATCH",
    path: "/api/v1/admin/plans/{slug}",
    summary:
      "Change a plan: any field a plan takes at creation except product and slug; only the fields given (stripePriceIds replaces the whole set)",
    description:
      "Seats and duration apply to licenses issued from now on; entitlements, grace days, token, heartbeat and activation-file lifetimes are read through the plan, so they apply to its existing licenses too.",
    tag: "catalog",
    scope: "catalog:write",
    pathParams: PLAN_SLUG,
    input: UpdatePlanFields,
    responses: { 200: { description: "Changed", schema: S.PlanResponse } },
    errors: [...WRITE_ERRORS, "PLAN_NOT_FOUND", "ALREADY_EXISTS"],
  },
  retirePlan: {
    method: "POST",
    path: "/api/v1/admin/plans/{slug}/retire",
    summary: "Retire a plan: it issues no new licenses by hand or plan change; issued licenses and bound Stripe prices keep working",
    tag: "catalog",
    scope: "catalog:write",
    pathParams: PLAN_SLUG,
    responses: { 200: { description: "Retired (or already was)", schema: S.PlanResponse } },
    errors: [...WRITE_ERRORS, "PLAN_NOT_FOUND"],
  },
  unretirePlan: {
    method: "POST",
    path: "/api/v1/admin/plans/{slug}/unretire",
    summary: "Bring a retired plan back",
    tag: "catalog",
    scope: "catalog:write",
    pathParams: PLAN_SLUG,
    responses: { 200: { description: "Active again (or already was)", schema: S.PlanResponse } },
    errors: [...WRITE_ERRORS, "PLAN_NOT_FOUND"],
  },

  // ---- Licenses
  listLicenses: {
    method: "GET",
    path: "/api/v1/admin/licenses",
    summary: "List licenses, newest first, with keyset pagination",
    tag: "licenses",
    scope: "read",
    input: ListLicensesQuery,
    responses: { 200: { description: "One page", schema: S.LicenseList } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST"],
  },
  searchLicenses: {
    method: "GET",
    path: "/api/v1/admin/licenses/search",
    summary: "Search licenses by key, key hint (its last characters), email prefix, machine fingerprint or customer",
    description:
      "`field=auto` reads `q` as whatever it looks like: a whole key, a hint such as `…7K2Q`, a license or customer id, an email, else a fingerprint.",
    tag: "licenses",
    scope: "read",
    input: SearchLicensesQuery,
    responses: { 200: { description: "One page", schema: S.LicenseSearchPage } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST"],
  },
  issueLicense: {
    method: "POST",
    path: "/api/v1/admin/licenses",
    summary: "Issue a license by hand to the customer with this email (created if new) and email them the key",
    tag: "licenses",
    scope: "licenses:write",
    input: IssueManualLicenseInput,
    responses: { 201: { description: "Issued", schema: S.IssuedLicense } },
    errors: [...WRITE_ERRORS, "PLAN_NOT_FOUND", "INVALID_STATE"],
  },
  getLicense: {
    method: "GET",
    path: "/api/v1/admin/licenses/{id}",
    summary: "One license with its activations",
    tag: "licenses",
    scope: "read",
    pathParams: LICENSE_ID,
    responses: { 200: { description: "The license", schema: S.LicenseDetail } },
    errors: [...ADMIN_ERRORS, "NOT_FOUND"],
  },
  ...licenseActionRoutes,
  changeLicensePlan: {
    method: "POST",
    path: "/api/v1/admin/licenses/{id}/change-plan",
    summary: "Move a license to another plan of the same product: entitlements, grace and token lifetime follow the plan; expiry stays; seats stay unless given",
    tag: "licenses",
    scope: "licenses:write",
    pathParams: LICENSE_ID,
    input: ChangePlanInput,
    responses: { 200: { description: "Changed", schema: S.LicenseDetail } },
    errors: [...WRITE_ERRORS, "NOT_FOUND", "PLAN_NOT_FOUND", "INVALID_STATE"],
  },
  freeActivation: {
    method: "DELETE",
    path: "/api/v1/admin/licenses/{id}/activations/{activationId}",
    summary: "Free one machine's seat (whatever the license's status)",
    tag: "licenses",
    scope: "licenses:write",
    pathParams: { ...LICENSE_ID, activationId: "Activation id (uuid)" },
    responses: { 200: { description: "Freed; the license as it is now", schema: S.LicenseDetail } },
    errors: [...WRITE_ERRORS, "NOT_FOUND", "NOT_ACTIVATED"],
  },
  resendLicenseEmail: {
    method: "POST",
    path: "/api/v1/admin/licenses/{id}/resend-email",
    summary: "Email the customer their license key again (queued)",
    tag: "licenses",
    scope: "licenses:write",
    pathParams: LICENSE_ID,
    responses: { 202: { description: "Queued", schema: S.EmailResent } },
    errors: [...WRITE_ERRORS, "NOT_FOUND", "INVALID_STATE"],
  },
  createActivationFile: {
    method: "POST",
    path: "/api/v1/admin/licenses/{id}/activation-file",
    summary: "Take a seat for a machine that never goes online and return its activation file (the plan's airGappedTtlDays must be set)",
    tag: "licenses",
    scope: "licenses:write",
    pathParams: LICENSE_ID,
    input: ActivationFileInput,
    responses: { 201: { description: "Seat taken (or reused for this fingerprint); the file", schema: S.ActivationFile } },
    errors: [...WRITE_ERRORS, "NOT_FOUND", "SUSPENDED", "REVOKED", "EXPIRED", "TOO_MANY_ACTIVATIONS", "INVALID_STATE"],
  },

  // ---- Customers
  searchCustomers: {
    method: "GET",
    path: "/api/v1/admin/customers",
    summary: "Customers by email prefix (or exact id, or Stripe customer id cus_…), by email",
    tag: "customers",
    scope: "read",
    input: SearchCustomersQuery,
    responses: { 200: { description: "One page", schema: S.CustomerPage } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST"],
  },
  getCustomer: {
    method: "GET",
    path: "/api/v1/admin/customers/{id}",
    summary: "One customer with their licenses, emails, payments and Stripe references",
    tag: "customers",
    scope: "read",
    pathParams: { id: "Customer id (uuid)" },
    responses: { 200: { description: "The customer", schema: S.CustomerDetailResponse } },
    errors: [...ADMIN_ERRORS, "NOT_FOUND"],
  },
  changeCustomerEmail: {
    method: "PATCH",
    path: "/api/v1/admin/customers/{id}",
    summary: "Correct a customer's email (refused if another customer has it); future emails and portal sign-in use it",
    tag: "customers",
    scope: "admin",
    pathParams: { id: "Customer id (uuid)" },
    input: ChangeCustomerEmailInput,
    responses: { 200: { description: "Changed", schema: S.CustomerEmailChanged } },
    errors: [...WRITE_ERRORS, "NOT_FOUND", "ALREADY_EXISTS"],
  },

  // ---- Stripe
  listStripeEvents: {
    method: "GET",
    path: "/api/v1/admin/stripe/events",
    summary: "Stripe events received, newest first",
    tag: "billing",
    scope: "read",
    input: ListStripeEventsQuery,
    responses: { 200: { description: "One page", schema: S.StripeEventPage } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST"],
  },
  getStripeEvent: {
    method: "GET",
    path: "/api/v1/admin/stripe/events/{id}",
    summary: "One Stripe event: its payload, what processing did (audit rows) and the licenses it touched",
    tag: "billing",
    scope: "read",
    pathParams: { id: "Stripe event id (evt_…)" },
    responses: { 200: { description: "The event", schema: S.StripeEventDetailResponse } },
    errors: [...ADMIN_ERRORS, "NOT_FOUND"],
  },
  replayStripeEvent: {
    method: "POST",
    path: "/api/v1/admin/stripe/events/{id}/replay",
    summary: "Process a stored Stripe event again (queued; processing re-reads Stripe's current objects)",
    tag: "billing",
    scope: "admin",
    pathParams: { id: "Stripe event id (evt_…)" },
    responses: { 202: { description: "Queued", schema: S.StripeEventReplayed } },
    errors: [...WRITE_ERRORS, "NOT_FOUND", "INVALID_STATE"],
  },
  reconcileStripe: {
    method: "POST",
    path: "/api/v1/admin/stripe/reconcile",
    summary: "Queue a Stripe reconciliation run now instead of waiting for its schedule",
    tag: "billing",
    scope: "admin",
    responses: { 202: { description: "Queued", schema: S.ReconcileQueued } },
    errors: WRITE_ERRORS,
  },

  // ---- Emails and audit
  listEmails: {
    method: "GET",
    path: "/api/v1/admin/emails",
    summary: "The email outbox, newest first",
    tag: "emails",
    scope: "read",
    input: ListEmailsQuery,
    responses: { 200: { description: "One page", schema: S.EmailPage } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST"],
  },
  retryEmail: {
    method: "POST",
    path: "/api/v1/admin/emails/{id}/retry",
    summary: "Send a failed or waiting email again now (a sent one is never sent twice)",
    tag: "emails",
    scope: "admin",
    pathParams: { id: "Email id (uuid)" },
    responses: { 202: { description: "Queued", schema: S.EmailRetried } },
    errors: [...WRITE_ERRORS, "NOT_FOUND", "INVALID_STATE"],
  },
  listAudit: {
    method: "GET",
    path: "/api/v1/admin/audit",
    summary: "The audit log, newest first: who changed what (a token acts as api_token with its id)",
    tag: "audit",
    scope: "read",
    input: ListAuditQuery,
    responses: { 200: { description: "One page", schema: S.AuditPage } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST"],
  },

  // ---- Keys and tokens
  listSigningKeys: {
    method: "GET",
    path: "/api/v1/admin/signing-keys",
    summary: "Offline-token signing keys (public halves) and their state",
    tag: "keys",
    scope: "read",
    responses: { 200: { description: "Every key, newest first", schema: S.SigningKeyList } },
    errors: ADMIN_ERRORS,
  },
  rotateSigningKey: {
    method: "POST",
    path: "/api/v1/admin/signing-keys/rotate",
    summary: "A new key signs from now on; retired keys stay in the JWKS until every token they signed has expired",
    tag: "keys",
    scope: "admin",
    responses: { 200: { description: "Rotated", schema: S.SigningKeyRotated } },
    errors: WRITE_ERRORS,
  },
  listApiTokens: {
    method: "GET",
    path: "/api/v1/admin/tokens",
    summary: "Management API tokens (never their secrets), newest first",
    tag: "tokens",
    scope: "admin",
    responses: { 200: { description: "Every token", schema: S.ApiTokenList } },
    errors: ADMIN_ERRORS,
  },
  createApiToken: {
    method: "POST",
    path: "/api/v1/admin/tokens",
    summary: "Make a token with scopes and an optional expiry; its secret is in this answer only",
    tag: "tokens",
    scope: "admin",
    input: CreateApiTokenInput,
    responses: { 201: { description: "Made", schema: S.ApiTokenCreated } },
    errors: WRITE_ERRORS,
  },
  revokeApiToken: {
    method: "DELETE",
    path: "/api/v1/admin/tokens/{id}",
    summary: "Revoke a token: its next request gets 401",
    tag: "tokens",
    scope: "admin",
    pathParams: { id: "Token id (uuid)" },
    responses: { 200: { description: "Revoked", schema: S.ApiTokenRevoked } },
    errors: [...WRITE_ERRORS, "NOT_FOUND"],
  },

  // ---- Outgoing webhooks (README "Outgoing webhooks"): Standard Webhooks signatures
  listWebhooks: {
    method: "GET",
    path: "/api/v1/admin/webhooks",
    summary: "List webhook endpoints",
    tag: "webhooks",
    scope: "read",
    responses: { 200: { description: "Endpoints", schema: WebhookList } },
    errors: ADMIN_ERRORS,
  },
  createWebhook: {
    method: "POST",
    path: "/api/v1/admin/webhooks",
    summary: "Add an endpoint; its signing secret (whsec_...) is in this answer only",
    tag: "webhooks",
    scope: "admin",
    input: CreateWebhookInput,
    responses: { 201: { description: "Created, with its secret", schema: WebhookCreated } },
    errors: WRITE_ERRORS,
  },
  getWebhook: {
    method: "GET",
    path: "/api/v1/admin/webhooks/{id}",
    summary: "One webhook endpoint",
    tag: "webhooks",
    scope: "read",
    pathParams: WEBHOOK_ID,
    responses: { 200: { description: "The endpoint", schema: WebhookAnswer } },
    errors: [...ADMIN_ERRORS, "NOT_FOUND"],
  },
  updateWebhook: {
    method: "PATCH",
    path: "/api/v1/admin/webhooks/{id}",
    summary: "Change an endpoint's URL, events, description, or enable / disable it",
    tag: "webhooks",
    scope: "admin",
    pathParams: WEBHOOK_ID,
    input: UpdateWebhookInput,
    responses: { 200: { description: "Changed", schema: WebhookAnswer } },
    errors: [...WRITE_ERRORS, "NOT_FOUND"],
  },
  deleteWebhook: {
    method: "DELETE",
    path: "/api/v1/admin/webhooks/{id}",
    summary: "Remove an endpoint (its pending deliveries stop)",
    tag: "webhooks",
    scope: "admin",
    pathParams: WEBHOOK_ID,
    responses: { 200: { description: "Deleted", schema: z.object({ deleted: z.literal(true) }) } },
    errors: [...WRITE_ERRORS, "NOT_FOUND"],
  },
  listWebhookDeliveries: {
    method: "GET",
    path: "/api/v1/admin/webhooks/{id}/deliveries",
    summary: "The delivery log: status code, latency and the first bytes of each answer",
    tag: "webhooks",
    scope: "read",
    pathParams: WEBHOOK_ID,
    input: ListWebhookDeliveriesInput,
    responses: { 200: { description: "Deliveries, newest first", schema: WebhookDeliveryList } },
    errors: [...ADMIN_ERRORS, "NOT_FOUND"],
  },
  retryWebhookDelivery: {
    method: "POST",
    path: "/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/retry",
    summary: "Send a failed delivery again now (the same webhook-id)",
    tag: "webhooks",
    scope: "admin",
    pathParams: { ...WEBHOOK_ID, deliveryId: "Delivery id (uuid)" },
    responses: { 202: { description: "Queued", schema: WebhookDeliveryAnswer } },
    errors: [...WRITE_ERRORS, "NOT_FOUND", "INVALID_STATE"],
  },
  replayWebhook: {
    method: "POST",
    path: "/api/v1/admin/webhooks/{id}/replay",
    summary: "Deliver past events again: one delivery, or every event since a time",
    tag: "webhooks",
    scope: "admin",
    pathParams: WEBHOOK_ID,
    input: ReplayWebhookInput,
    responses: { 202: { description: "Queued", schema: WebhookReplayed } },
    errors: [...WRITE_ERRORS, "NOT_FOUND"],
  },
  rotateWebhookSecret: {
    method: "POST",
    path: "/api/v1/admin/webhooks/{id}/rotate-secret",
    summary: "A new signing secret (in this answer only); the old one keeps signing for 24 hours",
    tag: "webhooks",
    scope: "admin",
    pathParams: WEBHOOK_ID,
    responses: { 200: { description: "Rotated", schema: WebhookSecretRotated } },
    errors: [...WRITE_ERRORS, "NOT_FOUND"],
  },
  testWebhook: {
    method: "POST",
    path: "/api/v1/admin/webhooks/{id}/test",
    summary: "Send a test ping to the endpoint",
    tag: "webhooks",
    scope: "admin",
    pathParams: WEBHOOK_ID,
    responses: { 202: { description: "Queued", schema: WebhookDeliveryAnswer } },
    errors: [...WRITE_ERRORS, "NOT_FOUND"],
  },

  // ---- Releases (README "Releases and downloads")
  createRelease: {
    method: "POST",
    path: "/api/v1/admin/releases",
    summary: "Upload a release: multipart fields and `file`, or `url` for a file hosted elsewhere; streamed to DATA_DIR",
    tag: "releases",
    scope: "catalog:write",
    inputType: "multipart/form-data",
    input: CreateReleaseFields.extend({ file: ReleaseFile.optional() }),
    responses: { 201: { description: "Stored, with its sha256 and size", schema: CreateReleaseOutput } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST", "PRODUCT_NOT_FOUND", "ALREADY_EXISTS", "PAYLOAD_TOO_LARGE"],
  },
  listReleases: {
    method: "GET",
    path: "/api/v1/admin/releases",
    summary: "List releases, newest version first",
    tag: "releases",
    scope: "read",
    input: ListReleasesQuery,
    responses: { 200: { description: "Releases", schema: ListReleasesOutput } },
    errors: ADMIN_ERRORS,
  },
  deleteRelease: {
    method: "DELETE",
    path: "/api/v1/admin/releases/{id}",
    summary: "Delete a release and its file (links already handed out stop working)",
    tag: "releases",
    scope: "catalog:write",
    pathParams: { id: "Release id" },
    responses: { 200: { description: "Deleted", schema: z.object({ deleted: z.literal(true) }) } },
    errors: [...WRITE_ERRORS, "NOT_FOUND"],
  },
  latestRelease: {
    method: "POST",
    path: "/api/v1/releases/latest",
    summary: "The newest release this activated machine may download, with a short-lived signed link (a signed answer)",
    tag: "releases",
    input: LatestReleaseInput,
    responses: { 200: { description: "The release and its link", schema: LatestReleaseOutput } },
    errors: [...PUBLIC_ERRORS, "NOT_FOUND", "NOT_ACTIVATED", "SUSPENDED", "REVOKED", "EXPIRED", "PRODUCT_MISMATCH", "FORBIDDEN"],
  },
  downloadRelease: {
    method: "GET",
    path: "/api/v1/releases/download",
    summary: "A signed download link: the file (single byte ranges supported); 403 once altered or expired",
    tag: "releases",
    input: z.object({ r: z.string(), l: z.string(), e: z.string(), s: z.string() }).meta({ description: "The signed link's own parameters" }),
    responses: {
      200: { description: "The file", schema: ReleaseFile, contentType: "application/octet-stream" },
      206: { description: "The requested range", schema: ReleaseFile, contentType: "application/octet-stream" },
    },
    errors: ["FORBIDDEN", "NOT_FOUND", "RATE_LIMITED"],
  },

  // ---- The way out and back in (README "Leaving, and coming in")
  exportEverything: {
    method: "GET",
    path: "/api/v1/admin/export",
    summary: "Everything as one versioned JSON document, streamed (keys sealed unless ?keys=clear)",
    tag: "data",
    scope: "admin",
    input: ExportQuery,
    responses: { 200: { description: "The export document", schema: ExportDocument } },
    errors: ADMIN_ERRORS,
  },
  importFile: {
    method: "POST",
    path: "/api/v1/admin/import",
    summary: "Import a file as the platform sent it (dryRun=1: counts and refused rows, nothing written); large files run as a job (202)",
    tag: "data",
    scope: "admin",
    query: ImportQuery,
    inputType: "application/octet-stream",
    input: z.string().meta({ format: "binary", description: "A Keystead export, or another platform's file" }),
    responses: {
      200: { description: "Dry run, or a small import done", schema: ImportResult },
      202: { description: "Queued as a job", schema: ImportJobView },
    },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST", "IMPORT_TARGET_NOT_EMPTY", "SEALED_UNDER_ANOTHER_SECRET", "UNREADABLE_IMPORT", "PAYLOAD_TOO_LARGE"],
  },
  importProgress: {
    method: "GET",
    path: "/api/v1/admin/import/{id}",
    summary: "An import job's progress",
    tag: "data",
    scope: "admin",
    pathParams: { id: "Import job id" },
    responses: { 200: { description: "Progress", schema: ImportJobView } },
    errors: [...ADMIN_ERRORS, "NOT_FOUND"],
  },

  // ---- The storefront (README "The shop")
  createCheckout: {
    method: "POST",
    path: "/api/v1/checkout",
    summary: "Create a Stripe Checkout Session for a bound price: 303 to Stripe for a form post, 200 { url, sessionId } for JSON",
    tag: "shop",
    input: CreateCheckoutInput,
    responses: { 200: { description: "Created", schema: CreateCheckoutOutput } },
    errors: [...PUBLIC_ERRORS, "NOT_FOUND", "UNAVAILABLE"],
  },
  checkoutSessionStatus: {
    method: "GET",
    path: "/api/v1/checkout/sessions/{id}",
    summary: "Whether a checkout's licenses are issued; keys only for the buyer's own fresh session",
    tag: "shop",
    pathParams: { id: "Stripe Checkout Session id (cs_...)" },
    responses: { 200: { description: "Status", schema: CheckoutSessionStatus } },
    errors: ["BAD_REQUEST", "RATE_LIMITED"],
  },
  requestTrial: {
    method: "POST",
    path: "/api/v1/trials",
    summary: "Ask for a card-free trial: the address gets a confirm link (the same answer whatever happens)",
    tag: "shop",
    input: RequestTrialInput,
    responses: { 202: { description: "Accepted", schema: RequestTrialOutput } },
    errors: [...PUBLIC_ERRORS, "NOT_FOUND", "DISPOSABLE_EMAIL"],
  },
  confirmTrial: {
    method: "POST",
    path: "/api/v1/trials/confirm",
    summary: "The trial confirm page's button: issues the trial license and emails its key",
    tag: "shop",
    input: ConfirmTrialInput,
    responses: { 200: { description: "Issued", schema: ConfirmTrialOutput } },
    errors: [...PUBLIC_ERRORS, "FORBIDDEN", "LINK_EXPIRED"],
  },

  // ---- Key Commander compatibility (README "Use the Signal Lynx storefront template with Keystead"): header
  // X-Internal-API-Key = INTERNAL_API_KEY; every one answers 404 while it is unset. Errors are { detail }.
  kcUserEntitlements: {
    method: "GET",
    path: "/api/v1/internal/user-entitlements/{externalUserId}",
    summary: "Every license linked to an external (storefront) user, as Key Commander answers",
    tag: "key-commander",
    pathParams: { externalUserId: "The storefront's user id (Supabase user id)" },
    responses: { 200: { description: "Entitlements", schema: UserEntitlements }, ...KC_ERRORS },
    errors: [],
  },
  kcClaimByEmail: {
    method: "POST",
    path: "/api/v1/internal/licenses/claim-by-email",
    summary: "Link every license bought with an email to an external user (idempotent)",
    tag: "key-commander",
    input: ClaimByEmailInput,
    responses: { 200: { description: "Claimed", schema: ClaimByEmailAnswer }, ...KC_ERRORS },
    errors: [],
  },
  kcPublicResetActivations: {
    method: "POST",
    path: "/api/v1/internal/users/public/reset-activations",
    summary: "Reset every activation of a key that belongs to that email, under the plan's reset cooldown",
    tag: "key-commander",
    input: PublicResetActivationsInput,
    responses: {
      200: { description: "Reset", schema: PublicResetAnswer },
      404: { description: "The key is not that email's", schema: KeyCommanderError },
      ...KC_ERRORS,
      429: { description: "Inside the cooldown (next_allowed_reset_at, retry_after_seconds), or too many attempts", schema: KeyCommanderError },
    },
    errors: [],
  },
  kcResetByUserId: {
    method: "POST",
    path: "/api/v1/internal/licenses/reset-activations-by-user-id",
    summary: "Reset every activation of every license linked to an external user (the storefront admin's tool)",
    tag: "key-commander",
    input: ResetByUserIdInput,
    responses: { 200: { description: "Reset", schema: ResetByUserIdAnswer }, ...KC_ERRORS },
    errors: [],
  },
  kcReportWebsiteError: {
    method: "POST",
    path: "/api/v1/report-website-error",
    summary: "Store an error the storefront reports (shown in the admin app under Website errors)",
    tag: "key-commander",
    input: ReportWebsiteErrorInput,
    responses: { 202: { description: "Stored", schema: ReportWebsiteErrorAnswer }, ...KC_ERRORS },
    errors: [],
  },
} satisfies Record<string, ApiRoute>;

export const API = routes;
export type ApiRouteName = keyof typeof routes;
/** Every route, for the document and the tests. */
export const API_ROUTES: (ApiRoute & { operationId: string })[] = Object.entries(routes as Record<string, ApiRoute>).map(
  ([operationId, r]) => ({ ...r, operationId }),
);
