import { z } from "zod";
import { ERROR_STATUS } from "@/server/domain/errors";
import { env } from "@/server/env";
import * as Schemas from "./api-schemas";
import { API_ROUTES, type ApiRoute } from "./api-routes";

/**
 * GET /api/v1/openapi.json: the OpenAPI 3.1 document, generated from the route table (./api-routes.ts) with
 * zod 4's own JSON Schema output. Request schemas are the very zod schemas the routes parse with; answers are the
 * schemas of ./api-schemas.ts, which the compiler keeps equal to the domain's types. Nothing here is a second
 * copy of a shape: a field added to a domain schema appears in the document by itself.
 */

type JsonSchema = Record<string, unknown>;
const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Names every schema the document mentions: answers by their export name, inputs by their route. */
function nameSchemas() {
  const registry = z.registry<{ id: string }>();
  const named = new Map<z.ZodType, string>();
  const add = (schema: z.ZodType, id: string) => {
    if (named.has(schema)) return;
    registry.add(schema, { id });
    named.set(schema, id);
  };
  for (const [name, value] of Object.entries(Schemas)) if (value instanceof z.ZodType) add(value, name);
  for (const route of API_ROUTES) {
    const base = pascal(route.operationId);
    if (route.input) add(route.input, `${base}${route.method === "GET" ? "Query" : "Input"}`);
    if (route.query) add(route.query, `${base}Query`);
    for (const [status, r] of Object.entries(route.responses)) add(r.schema, `${base}${status}`);
  }
  return { registry, named };
}

function componentSchemas(registry: z.core.$ZodRegistry<{ id: string }>): Record<string, JsonSchema> {
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

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed input (BAD_REQUEST, with details) or another 400 code",
  401: "Missing, wrong, revoked or expired bearer token (UNAUTHORIZED)",
  403: "Refused (FORBIDDEN: the token lacks the scope; details.scope names it)",
  404: "Not found",
  409: "Conflicts with the current state, or an Idempotency-Key reused for another request (IDEMPOTENCY_CONFLICT)",
  413: "Body too large (PAYLOAD_TOO_LARGE)",
  429: "Too many requests (RATE_LIMITED); see Retry-After. On the management API: too many bad tokens from this address",
};

const QUERY_DESCRIPTIONS: Record<string, string> = {
  email: "Customer email, case-insensitive exact match",
  status: "Status",
  product: "Product slug",
  plan: "Plan slug",
  cursor: "nextCursor from the previous page (opaque)",
  limit: "Page size",
  q: "Search text",
};

const IDEMPOTENCY_HEADER = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "Any unique string (a UUID). The same key with the same method, path and body gets the first answer again for 24 hours (header Idempotent-Replayed: true); the same key with anything else gets 409 IDEMPOTENCY_CONFLICT.",
  schema: { type: "string", minLength: 1, maxLength: 255 },
};

function buildOperation(route: ApiRoute & { operationId: string }, named: Map<z.ZodType, string>, schemas: Record<string, JsonSchema>) {
  const ref = (schema: z.ZodType) => ({ $ref: `#/components/schemas/${named.get(schema)}` });
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(route.responses)) {
    responses[status] = { description: r.description, content: { [r.contentType ?? "application/json"]: { schema: ref(r.schema) } } };
  }
  const errorStatuses = [...new Set(route.errors.map((c) => ERROR_STATUS[c] as number))];
  for (const status of errorStatuses.sort((a, b) => a - b)) {
    const codes = route.errors.filter((c) => ERROR_STATUS[c] === status);
    responses[String(status)] = {
      description: `${ERROR_DESCRIPTIONS[status] ?? "Error"}. Codes: ${codes.join(", ")}`,
      ...(status === 429 ? { headers: { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait" } } } : {}),
      content: { "application/json": { schema: ref(Schemas.ErrorBody) } },
    };
  }

  const parameters: unknown[] = Object.entries(route.pathParams ?? {}).map(([name, description]) => ({
    name,
    in: "path",
    required: true,
    description,
    schema: { type: "string" },
  }));
  const query = route.method === "GET" ? route.input : route.query;
  if (query) {
    const json = schemas[named.get(query)!]!;
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries((json.properties ?? {}) as Record<string, JsonSchema>)) {
      parameters.push({
        name,
        in: "query",
        required: required.has(name),
        description: typeof schema.description === "string" ? schema.description : QUERY_DESCRIPTIONS[name],
        schema,
      });
    }
  }
  const mutating = route.method !== "GET";
  if (route.scope && mutating) parameters.push(IDEMPOTENCY_HEADER);

  const body = mutating && route.input;
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: [route.description, route.scope ? `Needs a token with the \`${route.scope}\` scope (or \`admin\`).` : undefined]
      .filter(Boolean)
      .join("\n\n") || undefined,
    tags: [route.tag],
    ...(route.scope ? { security: [{ bearerAuth: [route.scope] }], "x-keystead-scope": route.scope } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(body
      ? { requestBody: { required: !route.bodyOptional, content: { [route.inputType ?? "application/json"]: { schema: ref(body) } } } }
      : {}),
    responses,
  };
}

function buildDocument() {
  const { registry, named } = nameSchemas();
  const schemas = componentSchemas(registry);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of API_ROUTES) {
    paths[route.path] ??= {};
    const method = route.method.toLowerCase();
    if (paths[route.path]![method]) throw new Error(`${route.method} ${route.path} is in the route table twice`);
    paths[route.path]![method] = buildOperation(route, named, schemas);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Keystead API",
      version: "1",
      description:
        "Public license routes for client software (validate, activate, deactivate, heartbeat, JWKS) and the " +
        "headless management API under /api/v1/admin. Management calls take `Authorization: Bearer <token>`: " +
        "ADMIN_API_TOKEN (every scope) or a token made in the admin app or with POST /api/v1/admin/tokens, whose " +
        "scopes are `read` (every GET), `licenses:write`, `catalog:write` and `admin` (everything). Every error is " +
        "`{ error: { code, message } }`; every list is `{ data, nextCursor }`; mutating calls accept Idempotency-Key.",
    },
    servers: [{ url: env().APP_URL }],
    tags: [
      { name: "licenses", description: "Licenses: for client software (rate limited per IP and per key) and management" },
      { name: "keys", description: "Offline token verification and signing keys" },
      { name: "catalog", description: "Products and plans" },
      { name: "customers", description: "Customers" },
      { name: "billing", description: "Stripe events and reconciliation" },
      { name: "emails", description: "The email outbox" },
      { name: "audit", description: "The audit log" },
      { name: "tokens", description: "Management API tokens" },
      { name: "system", description: "Operations and this document" },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "ADMIN_API_TOKEN, or a token (ks_…) made in the admin app or the API; the operation's security lists the scope it needs",
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
