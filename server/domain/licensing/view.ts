import { inArray, sql } from "drizzle-orm";
import { activations, customers, licenses, plans, products, type LicenseStatus } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { isExpired } from "./lookup";

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

export type LicenseWithCustomer = LicenseView & { customer: { id: string; email: string } };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toActivationView(a: typeof activations.$inferSelect): ActivationView {
  return {
    id: a.id,
    fingerprint: a.fingerprint,
    name: a.name,
    platform: a.platform,
    createdAt: a.createdAt.toISOString(),
    lastSeenAt: a.lastSeenAt.toISOString(),
  };
}

/** License views (with their customer) for the given ids, in the order given; missing ids are skipped. */
export async function loadLicenseViews(tx: DbOrTx, ids: string[]): Promise<LicenseWithCustomer[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .select({
      id: licenses.id,
      status: licenses.status,
      product: products.slug,
      plan: plans.slug,
      expiresAt: licenses.expiresAt,
      entitlements: plans.entitlements,
      maxActivations: licenses.maxActivations,
      graceDays: plans.graceDays,
      activations: sql<number>`(select count(*)::int from ${activations} where ${activations.licenseId} = ${licenses.id})`,
      customerId: customers.id,
      customerEmail: customers.email,
    })
    .from(licenses)
    .innerJoin(plans, sql`${plans.id} = ${licenses.planId}`)
    .innerJoin(products, sql`${products.id} = ${plans.productId}`)
    .innerJoin(customers, sql`${customers.id} = ${licenses.customerId}`)
    .where(inArray(licenses.id, ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const at = now();
  return ids.flatMap((id) => {
    const r = byId.get(id);
    if (!r) return [];
    return [
      {
        id: r.id,
        // What validate would say: expired as soon as expiry plus grace has passed, before the sweep records it.
        status: isExpired(r, at) && r.status !== "revoked" && r.status !== "suspended" ? "expired" : r.status,
        product: r.product,
        plan: r.plan,
        expiresAt: iso(r.expiresAt),
        entitlements: r.entitlements,
        maxActivations: r.maxActivations,
        activations: r.activations,
        customer: { id: r.customerId, email: r.customerEmail },
      },
    ];
  });
}

export async function loadLicenseView(tx: DbOrTx, id: string): Promise<LicenseWithCustomer | null> {
  return (await loadLicenseViews(tx, [id]))[0] ?? null;
}

/** Drops the customer for the client-facing routes. */
export function publicLicense({ customer: _customer, ...view }: LicenseWithCustomer): LicenseView {
  return view;
}
