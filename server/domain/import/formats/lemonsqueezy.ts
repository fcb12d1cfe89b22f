import type { LicenseStatus } from "@/server/db/schema";
import {
  eachRow,
  parseDate,
  parseEmail,
  parseLimit,
  refuse,
  str,
  type ForeignActivation,
  type ForeignLicense,
  type ParsedFile,
} from "../types";
import { column, readCsv } from "./csv";
import { readJsonApi, relatedId, type Resource } from "./jsonapi";

/**
 * Lemon Squeezy (https://docs.lemonsqueezy.com/api/license-keys). Two shapes:
 * - the API's JSON:API answer of `GET /v1/license-keys` (`data[]` of type "license-keys"), with
 *   `?include=license-key-instances,product` for activations and product names; the answer of
 *   `GET /v1/license-key-instances` may be sent alongside (an array of documents);
 * - the dashboard's license-key CSV export (columns matched by name, see README of test/fixtures/import).
 * Lemon Squeezy statuses: inactive (no activations) and active -> active, expired -> expired, disabled -> suspended.
 * Its products are mapped ("product:<id>", or "variant:<id>" where the CSV names a variant).
 */

const STATUS: Record<string, LicenseStatus> = { inactive: "active", active: "active", expired: "expired", disabled: "suspended" };

function status(value: string | null, disabled: boolean): LicenseStatus {
  if (disabled) return "suspended";
  const s = STATUS[(value ?? "active").toLowerCase()];
  return s ?? refuse(`status "${value}" is not a Lemon Squeezy license status`);
}

export function parseLemonSqueezy(text: string): ParsedFile {
  const trimmed = text.trimStart();
  return trimmed.startsWith("{") || trimmed.startsWith("[") ? parseJson(text) : parseCsv(text);
}

function parseJson(text: string): ParsedFile {
  const doc = readJsonApi(text, "a Lemon Squeezy license-keys document (GET /v1/license-keys)");
  const keys = doc.data.filter((r) => r.type === "license-keys");
  const instancesByKey = new Map<string, Resource[]>();
  for (const r of doc.all) {
    if (r.type !== "license-key-instances") continue;
    const owner = relatedId(r, "license-key") ?? str(r.attributes?.license_key_id);
    if (!owner) continue;
    const list = instancesByKey.get(owner) ?? [];
    if (!list.some((x) => x.id === r.id)) list.push(r);
    instancesByKey.set(owner, list);
  }
  return eachRow(keys, (r, row): ForeignLicense => {
    const a = r.attributes ?? {};
    const key = str(a.key) ?? refuse("no license key");
    const productId = str(a.product_id) ?? relatedId(r, "product") ?? refuse("no product_id");
    const product = doc.get("products", productId);
    const activations: ForeignActivation[] = (instancesByKey.get(String(r.id)) ?? []).map((i) => ({
      fingerprint: str(i.attributes?.identifier) ?? String(i.id),
      name: str(i.attributes?.name),
      platform: null,
      createdAt: parseDate(i.attributes?.created_at, "instance created_at"),
      lastSeenAt: parseDate(i.attributes?.updated_at, "instance updated_at"),
      metadata: { lemonSqueezyInstanceId: String(i.id) },
    }));
    return {
      row,
      key,
      email: parseEmail(a.user_email),
      name: str(a.user_name),
      product: { ref: `product:${productId}`, name: str(product?.attributes?.name) ?? `Lemon Squeezy product ${productId}` },
      status: status(str(a.status), a.disabled === true),
      maxActivations: parseLimit(a.activation_limit, "activation_limit"),
      quantity: 1,
      expiresAt: parseDate(a.expires_at, "expires_at"),
      createdAt: parseDate(a.created_at, "created_at"),
      activations,
      externalId: `lemonsqueezy:${r.id}`,
    };
  });
}

function parseCsv(text: string): ParsedFile {
  const records = readCsv(text, "a Lemon Squeezy license-key CSV export");
  return eachRow(records, (r, row): ForeignLicense => {
    const key = column(r, "key", "license key", "license_key") ?? refuse("no license key");
    const productId = column(r, "product id", "product_id");
    const productName = column(r, "product", "product name", "product_name");
    const variantId = column(r, "variant id", "variant_id");
    const variantName = column(r, "variant", "variant name", "variant_name");
    const ref = variantId ? `variant:${variantId}` : productId ? `product:${productId}` : productName ? `product:${productName}` : refuse("no product");
    return {
      row,
      key,
      email: parseEmail(column(r, "email", "customer email", "user email", "user_email")),
      name: column(r, "name", "customer name", "customer", "user name", "user_name"),
      product: { ref, name: [productName ?? productId, variantName].filter(Boolean).join(" / ") || ref },
      status: status(column(r, "status"), false),
      maxActivations: parseLimit(column(r, "activation limit", "activation_limit", "activations limit"), "activation limit"),
      quantity: 1,
      expiresAt: parseDate(column(r, "expires at", "expires_at", "expires"), "expires at"),
      createdAt: parseDate(column(r, "created at", "created_at", "date"), "created at"),
      // The CSV counts instances but does not name them: there is nothing to activate on.
      activations: [],
      externalId: column(r, "id", "license key id") ? `lemonsqueezy:${column(r, "id", "license key id")}` : null,
    };
  });
}
