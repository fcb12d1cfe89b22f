import { z } from "zod";
import { LICENSE_STATUSES } from "@/server/db/schema";
import { CreatePlanInput, UpdatePlanFields, type PlanView } from "@/server/domain/catalog/plans";
import { CreateProductInput, type ProductView } from "@/server/domain/catalog/products";
import { ERROR_STATUS, type ErrorCode } from "@/server/domain/errors";
import {
  ActivateLicenseInput,
  DeactivateLicenseInput,
  HeartbeatInput,
  ValidateLicenseInput,
} from "@/server/domain/licensing/inputs";
import { LICENSE_ACTIONS } from "@/server/domain/licensing/lifecycle";
import { ListLicensesQuery } from "@/server/domain/licensing/list";
import { IssueManualLicenseInput } from "@/server/domain/licensing/manual";
import { ActivationFileInput } from "@/server/domain/licensing/activation-file";
import type { ActivationView, AdminActivationView, LicenseView, LicenseWithCustomer } from "@/server/domain/licensing/view";
import { env } from "@/server/env";
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
import { CheckoutSessionStatus, CreateCheckoutInput, CreateCheckoutOutput } from "@/server/domain/shop/checkout";
import {
  CreateReleaseFields,
  CreateReleaseOutput,
  LatestReleaseInput,
  LatestReleaseOutput,
  ListReleasesOutput,
  ListReleasesQuery,
} from "@/server/domain/releases/inputs";
import { ConfirmTrialInput, ConfirmTrialOutput, RequestTrialInput, RequestTrialOutput } from "@/server/domain/shop/trials";

/**
 * GET /api/v1/openapi.json: the OpenAPI 3.1 document of the public license routes and the management API.
 * Request schemas are the very zod schemas the routes parse with; response schemas are declared here and
 * checked against the domain's view types at compile time, so the document cannot drift from the code.
 */

const registry = z.registry<{ id: string }>();
const named = new Map<z.ZodType, string>();

function component<S extends z.ZodType>(id: string, schema: S): S {
  if (named.has(schema)) throw new Error(`${id}: this schema is already documented as ${named.get(schema)}`);
  registry.add(schema, { id });
  named.set(schema, id);
  return schema;
}

function ref(schema: z.ZodType) {
  const id = named.get(schema);
  if (!id) throw new Error("schema is not a documented component");
  return { $ref: `#/components/schemas/${id}` };
}

// ---- Response shapes (CONTRACT.md "Shapes")

const Instant = z.string().meta({ format: "date-time" });

const License = component(
  "License",
  z.object({
    id: z.string().meta({ format: "uuid" }),
    status: z.enum(LICENSE_STATUSES),
    product: z.string().meta({ description: "Product slug" }),
    plan: z.string().meta({ description: "Plan slug" }),
    expiresAt: Instant.nullable().meta({ description: "null: perpetual" }),
    entitlements: z.array(z.string()),
    maxActivations: z.number().int(),
    activations: z.number().int(),
  }),
);

const Activation = component(
  "Activation",
  z.object({
    id: z.string().meta({ format: "uuid" }),
    fingerprint: z.string(),
    name: z.string().nullable(),
    platform: z.string().nullable(),
    createdAt: Instant,
    lastSeenAt: Instant,
  }),
);

const AdminActivation = component(
  "AdminActivation",
  Activation.extend({
    airGapped: z.boolean().meta({ description: "Made by an activation file (a machine that never goes online)" }),
  }),
);

const AdminLicense = component(
  "AdminLicense",
  License.extend({ customer: z.object({ id: z.string().meta({ format: "uuid" }), email: z.string() }) }),
);

const Product = component(
  "Product",
  z.object({
    id: z.string().meta({ format: "uuid" }),
    slug: z.string(),
    name: z.string(),
    externalIds: z.array(z.string()),
    createdAt: Instant,
    archivedAt: Instant.nullable(),
  }),
);

const Plan = component(
  "Plan",
  z.object({
    id: z.string().meta({ format: "uuid" }),
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
    trialDays: z.number().int().nullable().meta({ description: "Card-free trial length; null: no trial" }),
    resetCooldownDays: z.number().int().meta({ description: "Self-service reset of all devices at most once per this many days" }),
    externalIds: z.array(z.string()),
    createdAt: Instant,
    archivedAt: Instant.nullable(),
  }),
);

const ErrorBody = component(
  "Error",
  z.object({
    error: z.object({
      code: z.string().meta({ description: "UPPER_SNAKE_CASE, stable" }),
      message: z.string().meta({ description: "A human sentence" }),
      details: z.unknown().optional(),
    }),
  }),
);

// The compiler keeps these shapes equal to what the domain returns.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const shapesMatch: [
  Same<z.infer<typeof License>, LicenseView>,
  Same<z.infer<typeof Activation>, ActivationView>,
  Same<z.infer<typeof AdminActivation>, AdminActivationView>,
  Same<z.infer<typeof AdminLicense>, LicenseWithCustomer>,
  Same<z.infer<typeof Product>, ProductView>,
  Same<z.infer<typeof Plan>, PlanView>,
] = [true, true, true, true, true, true];
void shapesMatch;

const ValidateResponse = component(
  "ValidateResponse",
  z.object({
    valid: z.boolean(),
    code: z.enum(["VALID", "NOT_FOUND", "SUSPENDED", "REVOKED", "EXPIRED", "NOT_ACTIVATED", "PRODUCT_MISMATCH", "ENTITLEMENTS_MISSING"]),
    license: License.nullable(),
    activation: Activation.nullable(),
  }),
);
const ActivationResponse = component(
  "ActivationResponse",
  z.object({
    activation: Activation,
    license: License,
    token: z.string().meta({ description: "Offline token: compact JWS, EdDSA (Ed25519); verify with a key from /api/v1/jwks" }),
  }),
);
const DeactivateResponse = component("DeactivateResponse", z.object({ deactivated: z.literal(true) }));
const Jwks = component(
  "Jwks",
  z.object({
    keys: z.array(
      z.object({
        kty: z.literal("OKP"),
        crv: z.literal("Ed25519"),
        x: z.string(),
        kid: z.string(),
        alg: z.literal("EdDSA"),
        use: z.literal("sig"),
      }),
    ),
  }),
);
const Health = component(
  "Health",
  z.object({
    ok: z.boolean(),
    database: z.enum(["ok", "unavailable"]),
    worker: z.enum(["ok", "off", "starting", "stopped", "failed"]).meta({ description: "off: WORKER=off; anything but ok and off answers 503" }),
  }),
);

const ProductResponse = component("ProductResponse", z.object({ product: Product }));
const ProductList = component("ProductList", z.object({ data: z.array(Product) }));
const PlanResponse = component("PlanResponse", z.object({ plan: Plan }));
const PlanList = component("PlanList", z.object({ data: z.array(Plan) }));
const KeyProp = z.string().meta({ description: "The full license key. Shown in this answer only: store or pass it on now." });
const IssuedLicense = component("IssuedLicense", z.object({ license: AdminLicense, key: KeyProp }));
const LicenseList = component(
  "LicenseList",
  z.object({
    data: z.array(AdminLicense),
    nextCursor: z.string().nullable().meta({ description: "Pass as ?cursor= for the next page; null on the last page" }),
  }),
);
const LicenseDetail = component("LicenseDetail", z.object({ license: AdminLicense, activations: z.array(AdminActivation) }));
const LicenseActionResult = component("LicenseActionResult", z.object({ license: AdminLicense }));
const RotatedKey = component("RotatedKey", z.object({ license: AdminLicense, key: KeyProp }));
const ActivationFile = component(
  "ActivationFile",
  z.object({
    activation: AdminActivation,
    file: z.string().meta({
      description:
        'The activation file\'s text: a JSON document { "format": "keystead-activation-file-v1", "license", "product", "fingerprint", "expiresAt", "token" } whose token is the offline token; the SDK loads it with loadActivationFile(text)',
    }),
    expiresAt: Instant.meta({ description: "When the file stops working (the token's exp)" }),
  }),
);
const ReconcileQueued = component("ReconcileQueued", z.object({ queued: z.literal(true) }));

// ---- Request schemas: the ones the routes parse with

component("ValidateLicenseInput", ValidateLicenseInput);
component("ActivateLicenseInput", ActivateLicenseInput);
component("DeactivateLicenseInput", DeactivateLicenseInput);
component("HeartbeatInput", HeartbeatInput);
component("CreateProductInput", CreateProductInput);
component("CreatePlanInput", CreatePlanInput);
component("UpdatePlanInput", UpdatePlanFields);
component("IssueManualLicenseInput", IssueManualLicenseInput);
component("ActivationFileInput", ActivationFileInput);
const pascal = (s: string) => s.replace(/(^|-)([a-z])/g, (_, _dash, c: string) => c.toUpperCase());
for (const [name, action] of Object.entries(LICENSE_ACTIONS)) component(`${pascal(name)}Input`, action.input);

// ---- Operations

type Operation = {
  method: "get" | "post" | "patch" | "delete";
  path: string;
  operationId: string;
  summary: string;
  tag: "licenses" | "keys" | "system" | "admin" | "internal" | "shop";
  admin?: boolean;
  body?: z.ZodType;
  /** The body may be left out entirely. */
  bodyOptional?: boolean;
  /** The body's media type when it is not JSON (multipart/form-data for uploads). */
  bodyType?: string;
  query?: z.ZodObject;
  pathParams?: Record<string, string>;
  responses: Record<number, { description: string; schema: z.ZodType; type?: string }>;
  errors: ErrorCode[];
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed input (BAD_REQUEST, with details) or another 400 code",
  401: "Missing or wrong bearer token (UNAUTHORIZED)",
  403: "Refused",
  404: "Not found",
  409: "Conflicts with the current state",
  413: "Body too large (PAYLOAD_TOO_LARGE)",
  429: "Too many requests (RATE_LIMITED); see Retry-After",
};


const PUBLIC_ERRORS: ErrorCode[] = ["BAD_REQUEST", "PAYLOAD_TOO_LARGE", "RATE_LIMITED"];
const ADMIN_ERRORS: ErrorCode[] = ["UNAUTHORIZED"];
const LICENSE_ID = { id: "License id (uuid); anything else is 404 NOT_FOUND" };

const operations: Operation[] = [
  {
    method: "post",
    path: "/api/v1/licenses/validate",
    operationId: "validateLicense",
    summary: "Check a key (and optionally a machine, product, entitlements); 200 for every outcome",
    tag: "licenses",
    body: ValidateLicenseInput,
    responses: { 200: { description: "The verdict", schema: ValidateResponse } },
    errors: PUBLIC_ERRORS,
  },
  {
    method: "post",
    path: "/api/v1/licenses/activate",
    operationId: "activateLicense",
    summary: "Activate a machine; idempotent per fingerprint; concurrent activations never exceed the seats",
    tag: "licenses",
    body: ActivateLicenseInput,
    responses: {
      201: { description: "New activation", schema: ActivationResponse },
      200: { description: "This fingerprint was already activated", schema: ActivationResponse },
    },
    errors: [...PUBLIC_ERRORS, "NOT_FOUND", "SUSPENDED", "REVOKED", "EXPIRED", "PRODUCT_MISMATCH", "TOO_MANY_ACTIVATIONS"],
  },
  {
    method: "post",
    path: "/api/v1/licenses/deactivate",
    operationId: "deactivateLicense",
    summary: "Free a machine's seat",
    tag: "licenses",
    body: DeactivateLicenseInput,
    responses: { 200: { description: "Deactivated", schema: DeactivateResponse } },
    errors: [...PUBLIC_ERRORS, "NOT_FOUND", "NOT_ACTIVATED"],
  },
  {
    method: "post",
    path: "/api/v1/licenses/heartbeat",
    operationId: "heartbeat",
    summary: "Record that a machine is alive and get a fresh offline token",
    tag: "licenses",
    body: HeartbeatInput,
    responses: { 200: { description: "Seen", schema: ActivationResponse } },
    errors: [...PUBLIC_ERRORS, "NOT_FOUND", "NOT_ACTIVATED", "SUSPENDED", "REVOKED", "EXPIRED", "PRODUCT_MISMATCH"],
  },
  {
    method: "get",
    path: "/api/v1/jwks",
    operationId: "jwks",
    summary: "Public keys that verify offline tokens (also at /.well-known/jwks.json)",
    tag: "keys",
    responses: { 200: { description: "JSON Web Key Set", schema: Jwks } },
    errors: ["RATE_LIMITED"],
  },
  {
    method: "get",
    path: "/api/health",
    operationId: "health",
    summary: "Ready to serve (database reachable, migrations applied); 503 with ok:false otherwise",
    tag: "system",
    responses: { 200: { description: "Healthy", schema: Health }, 503: { description: "Not healthy", schema: Health } },
    errors: [],
  },
  {
    method: "get",
    path: "/api/v1/admin/products",
    operationId: "listProducts",
    summary: "List products",
    tag: "admin",
    admin: true,
    responses: { 200: { description: "Every product, by slug", schema: ProductList } },
    errors: ADMIN_ERRORS,
  },
  {
    method: "post",
    path: "/api/v1/admin/products",
    operationId: "createProduct",
    summary: "Create a product",
    tag: "admin",
    admin: true,
    body: CreateProductInput,
    responses: { 201: { description: "Created", schema: ProductResponse } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST", "ALREADY_EXISTS"],
  },
  {
    method: "get",
    path: "/api/v1/admin/plans",
    operationId: "listPlans",
    summary: "List plans with their Stripe prices",
    tag: "admin",
    admin: true,
    responses: { 200: { description: "Every plan, by product and slug", schema: PlanList } },
    errors: ADMIN_ERRORS,
  },
  {
    method: "post",
    path: "/api/v1/admin/plans",
    operationId: "createPlan",
    summary: "Create a plan of a product and bind its Stripe prices (a price issues exactly one plan)",
    tag: "admin",
    admin: true,
    body: CreatePlanInput,
    responses: { 201: { description: "Created", schema: PlanResponse } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST", "PRODUCT_NOT_FOUND", "ALREADY_EXISTS", "INVALID_STATE"],
  },
  {
    method: "patch",
    path: "/api/v1/admin/plans/{slug}",
    operationId: "updatePlan",
    summary:
      "Change a plan: only the fields given (stripePriceIds replaces the whole set); entitlements, grace, token and activation-file lifetimes apply to its existing licenses too",
    tag: "admin",
    admin: true,
    pathParams: { slug: "Plan slug" },
    body: UpdatePlanFields,
    responses: { 200: { description: "Changed", schema: PlanResponse } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST", "PLAN_NOT_FOUND", "ALREADY_EXISTS"],
  },
  {
    method: "get",
    path: "/api/v1/admin/licenses",
    operationId: "listLicenses",
    summary: "List licenses, newest first, with keyset pagination",
    tag: "admin",
    admin: true,
    query: ListLicensesQuery,
    responses: { 200: { description: "One page", schema: LicenseList } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST"],
  },
  {
    method: "post",
    path: "/api/v1/admin/licenses",
    operationId: "issueLicense",
    summary: "Issue a license by hand to the customer with this email (created if new) and email them the key",
    tag: "admin",
    admin: true,
    body: IssueManualLicenseInput,
    responses: { 201: { description: "Issued", schema: IssuedLicense } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST", "PLAN_NOT_FOUND", "INVALID_STATE"],
  },
  {
    method: "get",
    path: "/api/v1/admin/licenses/{id}",
    operationId: "getLicense",
    summary: "One license with its activations",
    tag: "admin",
    admin: true,
    pathParams: LICENSE_ID,
    responses: { 200: { description: "The license", schema: LicenseDetail } },
    errors: [...ADMIN_ERRORS, "NOT_FOUND"],
  },
  ...Object.entries(LICENSE_ACTIONS).map(
    ([name, action]): Operation => ({
      method: "post",
      path: `/api/v1/admin/licenses/{id}/${name}`,
      operationId: `${pascal(name).charAt(0).toLowerCase()}${pascal(name).slice(1)}License`,
      summary: action.summary,
      tag: "admin",
      admin: true,
      pathParams: LICENSE_ID,
      body: action.input,
      bodyOptional: action.input.safeParse({}).success,
      responses: {
        200: { description: "Done", schema: "returnsKey" in action && action.returnsKey ? RotatedKey : LicenseActionResult },
      },
      errors: [...ADMIN_ERRORS, "BAD_REQUEST", "NOT_FOUND", "INVALID_STATE"],
    }),
  ),
  {
    method: "post",
    path: "/api/v1/admin/licenses/{id}/activation-file",
    operationId: "createActivationFile",
    summary:
      "Take a seat for a machine that never goes online and return its activation file (the plan's airGappedTtlDays must be set)",
    tag: "admin",
    admin: true,
    pathParams: LICENSE_ID,
    body: ActivationFileInput,
    responses: { 201: { description: "Seat taken (or reused for this fingerprint); the file", schema: ActivationFile } },
    errors: [...ADMIN_ERRORS, "BAD_REQUEST", "NOT_FOUND", "SUSPENDED", "REVOKED", "EXPIRED", "TOO_MANY_ACTIVATIONS", "INVALID_STATE"],
  },
  {
    method: "post",
    path: "/api/v1/admin/stripe/reconcile",
    operationId: "reconcileStripe",
    summary: "Queue a Stripe reconciliation run now instead of waiting for its schedule",
    tag: "admin",
    admin: true,
    responses: { 202: { description: "Queued", schema: ReconcileQueued } },
    errors: ADMIN_ERRORS,
  },
  // Key Commander compatibility (the Signal Lynx storefront template): header X-Internal-API-Key = INTERNAL_API_KEY;
  // 404 for all of them while INTERNAL_API_KEY is unset. Errors here are the template's { detail } shape.
  ...keyCommanderOperations(),
  ...shopOperations(),
  ...releaseOperations(),
];

/** Releases: uploads in the management API, and the seller's updater's routes (signed like the license answers). */
function releaseOperations(): Operation[] {
  const File = component("ReleaseFile", z.string().meta({ format: "binary", description: "The release file" }));
  return [
    {
      method: "post",
      path: "/api/v1/admin/releases",
      operationId: "createRelease",
      summary: "Upload a release (multipart: the fields and `file`, or `url` for a file hosted elsewhere); streamed to DATA_DIR",
      tag: "admin",
      admin: true,
      bodyType: "multipart/form-data",
      body: component("CreateReleaseFields", CreateReleaseFields.extend({ file: File.optional() })),
      responses: { 201: { description: "Stored, with its sha256 and size", schema: component("CreateReleaseOutput", CreateReleaseOutput) } },
      errors: [...ADMIN_ERRORS, "PRODUCT_NOT_FOUND", "ALREADY_EXISTS", "PAYLOAD_TOO_LARGE"],
    },
    {
      method: "get",
      path: "/api/v1/admin/releases",
      operationId: "listReleases",
      summary: "List releases, newest version first",
      tag: "admin",
      admin: true,
      query: component("ListReleasesQuery", ListReleasesQuery),
      responses: { 200: { description: "Releases", schema: component("ListReleasesOutput", ListReleasesOutput) } },
      errors: ADMIN_ERRORS,
    },
    {
      method: "delete",
      path: "/api/v1/admin/releases/{id}",
      operationId: "deleteRelease",
      summary: "Delete a release and its file (links already handed out stop working)",
      tag: "admin",
      admin: true,
      pathParams: { id: "Release id" },
      responses: { 200: { description: "Deleted", schema: component("ReleaseDeleted", z.object({ deleted: z.literal(true) })) } },
      errors: [...ADMIN_ERRORS, "NOT_FOUND"],
    },
    {
      method: "post",
      path: "/api/v1/releases/latest",
      operationId: "latestRelease",
      summary: "The newest release this activated machine may download, with a short-lived signed link (a signed answer)",
      tag: "licenses",
      body: component("LatestReleaseInput", LatestReleaseInput),
      responses: { 200: { description: "The release and its link", schema: component("LatestReleaseOutput", LatestReleaseOutput) } },
      errors: [...PUBLIC_ERRORS, "NOT_FOUND", "NOT_ACTIVATED", "SUSPENDED", "REVOKED", "EXPIRED", "PRODUCT_MISMATCH", "FORBIDDEN"],
    },
    {
      method: "get",
      path: "/api/v1/releases/download",
      operationId: "downloadRelease",
      summary: "A signed download link (from releases/latest, the portal or the success page): the file, Range supported; 403 once altered or expired",
      tag: "licenses",
      query: component(
        "DownloadLinkQuery",
        z.object({ r: z.string(), l: z.string(), e: z.string(), s: z.string() }).meta({ description: "The signed link's own parameters" }),
      ),
      responses: {
        200: { description: "The file", schema: File, type: "application/octet-stream" },
        206: { description: "The requested range", schema: File, type: "application/octet-stream" },
      },
      errors: ["FORBIDDEN", "NOT_FOUND", "RATE_LIMITED"],
    },
  ];
}

/** The storefront's routes (the pricing page's Buy and trial buttons, the success page's polling). */
function shopOperations(): Operation[] {
  return [
    {
      method: "post",
      path: "/api/v1/checkout",
      operationId: "createCheckout",
      summary: "Create a Stripe Checkout Session for a bound price: 303 to Stripe for a form post, 200 { url, sessionId } for JSON",
      tag: "shop",
      body: component("CreateCheckoutInput", CreateCheckoutInput),
      responses: { 200: { description: "Created", schema: component("CreateCheckoutOutput", CreateCheckoutOutput) } },
      errors: ["BAD_REQUEST", "NOT_FOUND", "RATE_LIMITED", "UNAVAILABLE"],
    },
    {
      method: "get",
      path: "/api/v1/checkout/sessions/{id}",
      operationId: "checkoutSessionStatus",
      summary: "Whether a checkout's licenses are issued; keys only for the buyer's own fresh session",
      tag: "shop",
      pathParams: { id: "Stripe Checkout Session id (cs_...)" },
      responses: { 200: { description: "Status", schema: component("CheckoutSessionStatus", CheckoutSessionStatus) } },
      errors: ["BAD_REQUEST", "RATE_LIMITED"],
    },
    {
      method: "post",
      path: "/api/v1/trials",
      operationId: "requestTrial",
      summary: "Ask for a card-free trial: the address gets a confirm link (the same answer whatever happens)",
      tag: "shop",
      body: component("RequestTrialInput", RequestTrialInput),
      responses: { 202: { description: "Accepted", schema: component("RequestTrialOutput", RequestTrialOutput) } },
      errors: ["BAD_REQUEST", "NOT_FOUND", "DISPOSABLE_EMAIL", "RATE_LIMITED"],
    },
    {
      method: "post",
      path: "/api/v1/trials/confirm",
      operationId: "confirmTrial",
      summary: "The trial confirm page's button: issues the trial license and emails its key",
      tag: "shop",
      body: component("ConfirmTrialInput", ConfirmTrialInput),
      responses: { 200: { description: "Issued", schema: component("ConfirmTrialOutput", ConfirmTrialOutput) } },
      errors: ["BAD_REQUEST", "FORBIDDEN", "LINK_EXPIRED", "RATE_LIMITED"],
    },
  ];
}

function keyCommanderOperations(): Operation[] {
  const KcError = component("KeyCommanderError", KeyCommanderError);
  const common = {
    401: { description: "Missing or wrong X-Internal-API-Key", schema: KcError },
    422: { description: "The body does not match", schema: KcError },
    429: { description: "Too many failed attempts from this address", schema: KcError },
  };
  return [
    {
      method: "get",
      path: "/api/v1/internal/user-entitlements/{externalUserId}",
      operationId: "kcUserEntitlements",
      summary: "Every license linked to an external (storefront) user, as Key Commander answers",
      tag: "internal",
      pathParams: { externalUserId: "The storefront's user id (Supabase user id)" },
      responses: { 200: { description: "Entitlements", schema: component("KcUserEntitlements", UserEntitlements) }, ...common },
      errors: [],
    },
    {
      method: "post",
      path: "/api/v1/internal/licenses/claim-by-email",
      operationId: "kcClaimByEmail",
      summary: "Link every license bought with an email to an external user (idempotent)",
      tag: "internal",
      body: component("KcClaimByEmailInput", ClaimByEmailInput),
      responses: { 200: { description: "Claimed", schema: component("KcClaimByEmailAnswer", ClaimByEmailAnswer) }, ...common },
      errors: [],
    },
    {
      method: "post",
      path: "/api/v1/internal/users/public/reset-activations",
      operationId: "kcPublicResetActivations",
      summary: "Reset every activation of a key that belongs to that email, under the plan's reset cooldown",
      tag: "internal",
      body: component("KcPublicResetActivationsInput", PublicResetActivationsInput),
      responses: {
        200: { description: "Reset", schema: component("KcPublicResetAnswer", PublicResetAnswer) },
        404: { description: "The key is not that email's", schema: KcError },
        ...common,
        429: { description: "Inside the cooldown (next_allowed_reset_at, retry_after_seconds), or too many attempts", schema: KcError },
      },
      errors: [],
    },
    {
      method: "post",
      path: "/api/v1/internal/licenses/reset-activations-by-user-id",
      operationId: "kcResetByUserId",
      summary: "Reset every activation of every license linked to an external user (the storefront admin's tool)",
      tag: "internal",
      body: component("KcResetByUserIdInput", ResetByUserIdInput),
      responses: { 200: { description: "Reset", schema: component("KcResetByUserIdAnswer", ResetByUserIdAnswer) }, ...common },
      errors: [],
    },
    {
      method: "post",
      path: "/api/v1/report-website-error",
      operationId: "kcReportWebsiteError",
      summary: "Store an error the storefront reports (shown in the admin app under Website errors)",
      tag: "internal",
      body: component("KcReportWebsiteErrorInput", ReportWebsiteErrorInput),
      responses: { 202: { description: "Stored", schema: component("KcReportWebsiteErrorAnswer", ReportWebsiteErrorAnswer) }, ...common },
      errors: [],
    },
  ];
}

// ---- Assembly

type JsonSchema = Record<string, unknown>;

function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    // Requests are documented as clients send them (before defaults and transforms apply).
    io: "input",
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      // The one custom schema is the activation metadata object (validated by depth and size in code).
      if (zodSchema._zod.def.type === "custom") {
        jsonSchema.type = "object";
        jsonSchema.description = "Any JSON object, at most 4 KB and 8 levels deep";
      }
    },
  });
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema as JsonSchema;
    out[id] = rest;
  }
  return out;
}

function queryParameters(query: z.ZodObject, schemas: Record<string, JsonSchema>) {
  const id = named.get(query);
  const json = id ? schemas[id]! : (z.toJSONSchema(query, { io: "input" }) as JsonSchema);
  const props = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, schema]) => ({
    name,
    in: "query",
    required: required.has(name),
    description: typeof schema.description === "string" ? schema.description : undefined,
    schema,
  }));
}

const QUERY_DESCRIPTIONS: Record<string, string> = {
  email: "Customer email, case-insensitive exact match",
  status: "License status",
  product: "Product slug",
  plan: "Plan slug",
  cursor: "nextCursor from the previous page (opaque)",
  limit: "Page size, 1 to 200; default 50",
};

function buildOperation(op: Operation, schemas: Record<string, JsonSchema>) {
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(op.responses)) {
    responses[status] = { description: r.description, content: { [r.type ?? "application/json"]: { schema: ref(r.schema) } } };
  }
  const errorStatuses = [...new Set(op.errors.map((c) => ERROR_STATUS[c] as number))];
  for (const status of errorStatuses.sort((a, b) => a - b)) {
    const codes = op.errors.filter((c) => ERROR_STATUS[c] === status);
    responses[String(status)] = {
      description: `${ERROR_DESCRIPTIONS[status] ?? "Error"}. Codes: ${codes.join(", ")}`,
      ...(status === 429 ? { headers: { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait" } } } : {}),
      content: { "application/json": { schema: ref(ErrorBody) } },
    };
  }
  const parameters = [
    ...Object.entries(op.pathParams ?? {}).map(([name, description]) => ({
      name,
      in: "path",
      required: true,
      description,
      schema: { type: "string" },
    })),
    ...(op.query
      ? queryParameters(op.query, schemas).map((p) => ({ ...p, description: p.description ?? QUERY_DESCRIPTIONS[p.name] }))
      : []),
  ];
  return {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.tag],
    ...(op.admin ? { security: [{ bearerAuth: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: !op.bodyOptional,
            content: { [op.bodyType ?? "application/json"]: { schema: ref(op.body) } },
          },
        }
      : {}),
    responses,
  };
}

function buildDocument() {
  const schemas = componentSchemas();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    paths[op.path] ??= {};
    paths[op.path]![op.method] = buildOperation(op, schemas);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Keystead API",
      version: "1",
      description:
        "Public license routes for client software (validate, activate, deactivate, heartbeat, JWKS) and the " +
        "headless management API under /api/v1/admin (bearer token: ADMIN_API_TOKEN or a token made in the admin " +
        "app). Every error is { error: { code, message } }.",
    },
    servers: [{ url: env().APP_URL }],
    tags: [
      { name: "licenses", description: "For client software; rate limited per IP and per key" },
      { name: "keys", description: "Offline token verification keys" },
      { name: "system", description: "Operations" },
      { name: "admin", description: "Management API; bearer token required" },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "ADMIN_API_TOKEN, or a token (ks_…) made in the admin app",
        },
      },
    },
  };
}

let cached: ReturnType<typeof buildDocument> | undefined;

export function openApiDocument() {
  cached ??= buildDocument();
  return cached;
}
