import { inArray, sql } from "drizzle-orm";
import { activations, customers, licenses, plans, products, type LicenseStatus } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { effectiveStatus } from "./expiry";

/** The public License shape (CONTRACT.md "Shapes"). */
export type LicenseView = {
  id: string;
  status: LicenseStatus;
  product: string;
  plan: string;
  expiresAt: string | null;
  entitlements: string[];
  maxActivations: number;
  activations: number;
};

export type ActivationView = {
  id: string;
  fingerprint: string;
  name: string | null;
  platform: string | null;
  createdAt: string;
  lastSeenAt: string;
};

/** What operators see of an activation: the public shape, plus how it was made. */
export type AdminActivationView = ActivationView & {
  /** Made by an activation file: the machine never calls, so lastSeenAt stays its creation time. */
  airGapped: boolean;
};

export type LicenseWithCustomer = LicenseView & { customer: { id: string; email: string } };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toActivationView(a: typeof activations.$inferSelect): AdminActivationView {
  return {
    id: a.id,
    fingerprint: a.fingerprint,
    name: a.name,
    platform: a.platform,
    createdAt: a.createdAt.toISOString(),
    lastSeenAt: a.lastSeenAt.toISOString(),
    airGapped: a.airGapped,
  };
}

/**
 * The license rows behind these ids, with plan, product, customer and number of activations, in the order given
 * (missing ids are skipped). Every list of licenses (the management API, the admin app, emails) maps these.
 */
export async function loadLicenseRows(tx: DbOrTx, ids: string[]) {
  if (ids.length === 0) return [];
  const rows = await tx
    .select({
      id: licenses.id,
      keyHint: licenses.keyHint,
      status: licenses.status,
      statusReason: licenses.statusReason,
      expiresAt: licenses.expiresAt,
      maxActivations: licenses.maxActivations,
      source: licenses.source,
      createdAt: licenses.createdAt,
      activations: sql<number>`(select count(*)::int from ${activations} where ${activations.licenseId} = ${licenses.id})`,
      product: { slug: products.slug, name: products.name },
      plan: { id: plans.id, slug: plans.slug, name: plans.name, entitlements: plans.entitlements, graceDays: plans.graceDays },
      customer: { id: customers.id, email: customers.email },
    })
    .from(licenses)
    .innerJoin(plans, sql`${plans.id} = ${licenses.planId}`)
    .innerJoin(products, sql`${products.id} = ${plans.productId}`)
    .innerJoin(customers, sql`${customers.id} = ${licenses.customerId}`)
    .where(inArray(licenses.id, ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

export type LicenseRow = Awaited<ReturnType<typeof loadLicenseRows>>[number];

/** What validate would say: expired as soon as expiry plus grace has passed, before the sweep records it. */
export const rowStatus = (r: LicenseRow, at: Date) =>
  effectiveStatus({ status: r.status, expiresAt: r.expiresAt, graceDays: r.plan.graceDays }, at);

/** License views (with their customer) for the given ids, in the order given; missing ids are skipped. */
export async function loadLicenseViews(tx: DbOrTx, ids: string[]): Promise<LicenseWithCustomer[]> {
  const at = now();
  return (await loadLicenseRows(tx, ids)).map((r) => ({
    id: r.id,
    status: rowStatus(r, at),
    product: r.product.slug,
    plan: r.plan.slug,
    expiresAt: iso(r.expiresAt),
    entitlements: r.plan.entitlements,
    maxActivations: r.maxActivations,
    activations: r.activations,
    customer: r.customer,
  }));
}

export async function loadLicenseView(tx: DbOrTx, id: string): Promise<LicenseWithCustomer | null> {
  return (await loadLicenseViews(tx, [id]))[0] ?? null;
}
