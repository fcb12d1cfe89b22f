import type { LicenseStatus } from "@/server/db/schema";
import { eachRow, parseDate, parseEmail, parseLimit, refuse, str, unreadable, type ForeignLicense, type ParsedFile } from "../types";

/**
 * Polar (https://polar.sh/docs/api-reference/license-keys/list): the answer of `GET /v1/license-keys/`
 * (`{ items: LicenseKeyRead[], pagination }`, several pages as an array of answers), each item optionally with
 * `activations` as `GET /v1/license-keys/{id}` returns them (LicenseKeyWithActivations). Benefits are mapped
 * ("benefit:<id>"). Statuses: granted -> active, revoked -> revoked, disabled -> suspended. An activation is
 * found by its Polar activation id (what Polar's clients keep), named by its label.
 */

const STATUS: Record<string, LicenseStatus> = { granted: "active", revoked: "revoked", disabled: "suspended" };

type PolarKey = Record<string, unknown> & { customer?: Record<string, unknown>; activations?: Record<string, unknown>[] };

export function parsePolar(text: string): ParsedFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw unreadable("a Polar license-keys list (GET /v1/license-keys)");
  }
  const pages = Array.isArray(parsed) ? parsed : [parsed];
  const items: PolarKey[] = [];
  for (const p of pages) {
    if (!p || typeof p !== "object" || !Array.isArray((p as { items?: unknown }).items)) {
      throw unreadable("a Polar license-keys list (GET /v1/license-keys)");
    }
    items.push(...((p as { items: PolarKey[] }).items));
  }
  return eachRow(items, (k, row): ForeignLicense => {
    const key = str(k.key) ?? refuse("no license key");
    const benefit = str(k.benefit_id) ?? refuse("no benefit_id");
    const rawStatus = (str(k.status) ?? "granted").toLowerCase();
    return {
      row,
      key,
      email: parseEmail(k.customer?.email),
      name: str(k.customer?.name),
      product: { ref: `benefit:${benefit}`, name: `Polar benefit ${benefit.slice(0, 8)}` },
      status: STATUS[rawStatus] ?? refuse(`status "${rawStatus}" is not a Polar license key status`),
      maxActivations: parseLimit(k.limit_activations, "limit_activations"),
      quantity: 1,
      expiresAt: parseDate(k.expires_at, "expires_at"),
      createdAt: parseDate(k.created_at, "created_at"),
      activations: (k.activations ?? []).map((a) => ({
        fingerprint: str(a.id) ?? refuse("an activation has no id"),
        name: str(a.label),
        platform: null,
        createdAt: parseDate(a.created_at, "activation created_at"),
        lastSeenAt: parseDate(a.modified_at ?? a.created_at, "activation modified_at"),
        metadata: { polarActivationId: str(a.id), ...((a.meta as Record<string, unknown>) ?? {}) },
      })),
      externalId: str(k.id) ? `polar:${str(k.id)}` : null,
    };
  });
}
