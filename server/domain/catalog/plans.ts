import { asc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { planPrices, plans, products } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { storableText } from "@/server/domain/admin/text";
import { DisplayName, findProductBySlug, Slug } from "./products";

// Up to ten years: a file outliving that is a perpetual license in all but name, and the signing key that
// made it stays published for as long (maxOfflineTokenLifetimeSeconds).
const AirGappedTtlDays = z.number().int().min(1).max(3650);

const uniqueStrings = (items: string[]) => [...new Set(items)];

/** A card-free trial's length in days; null: the plan offers none. */
const TrialDays = z.number().int().min(1).max(365);
/** Self-service "reset all devices" at most once per this many days; 0: no cooldown. */
const ResetCooldownDays = z.number().int().min(0).max(3650);
/** Identifiers other systems know a plan or product by (a storefront template's ids, Stripe product ids). */
export const ExternalIds = z.array(storableText(1, 255)).max(50).transform(uniqueStrings);

export const CreatePlanInput = z.strictObject({
  product: Slug,
  slug: Slug,
  name: DisplayName,
  seats: z.number().int().min(1).max(1_000_000),
  /** null: perpetual, or for a subscription price the subscription's period decides. */
  durationDays: z.number().int().min(1).max(36_500).nullable(),
  entitlements: z.array(storableText(1, 100)).max(200).transform(uniqueStrings),
  stripePriceIds: z.array(storableText(1, 255)).max(100).transform(uniqueStrings),
  graceDays: z.number().int().min(0).max(3650).default(0),
  /** null or absent: the OFFLINE_TOKEN_TTL setting. */
  offlineTokenTtlSeconds: z.number().int().min(60).max(31_536_000).nullable().optional(),
  /** Floating seats; null or absent: activations never lapse. */
  heartbeatWindowSeconds: z.number().int().min(60).max(31_536_000).nullable().optional(),
  /** Activation files for machines that never go online, their token living this many days; null or absent: off. */
  airGappedTtlDays: AirGappedTtlDays.nullable().optional(),
  /** A card-free trial of this many days; null or absent: none. */
  trialDays: TrialDays.nullable().optional(),
  /** Self-service reset of all devices at most once per this many days; default 30; 0: no cooldown. */
  resetCooldownDays: ResetCooldownDays.default(30),
  externalIds: ExternalIds.default([]),
});
export type CreatePlanInput = z.infer<typeof CreatePlanInput>;

export type PlanView = {
  id: string;
  product: string;
  slug: string;
  name: string;
  seats: number;
  durationDays: number | null;
  graceDays: number;
  entitlements: string[];
  stripePriceIds: string[];
  offlineTokenTtlSeconds: number | null;
  heartbeatWindowSeconds: number | null;
  airGappedTtlDays: number | null;
  trialDays: number | null;
  resetCooldownDays: number;
  externalIds: string[];
  createdAt: string;
  archivedAt: string | null;
};

type PlanRow = typeof plans.$inferSelect;

function toPlanView(p: PlanRow, productSlug: string, priceIds: string[]): PlanView {
  return {
    id: p.id,
    product: productSlug,
    slug: p.slug,
    name: p.name,
    seats: p.seats,
    durationDays: p.durationDays,
    graceDays: p.graceDays,
    entitlements: p.entitlements,
    stripePriceIds: priceIds,
    offlineTokenTtlSeconds: p.offlineTokenTtlSeconds,
    heartbeatWindowSeconds: p.heartbeatWindowSeconds,
    airGappedTtlDays: p.airGappedTtlDays,
    trialDays: p.trialDays,
    resetCooldownDays: p.resetCooldownDays,
    externalIds: p.externalIds,
    createdAt: p.createdAt.toISOString(),
    archivedAt: p.archivedAt ? p.archivedAt.toISOString() : null,
  };
}

/**
 * Creates a plan and binds its Stripe prices. Run in a transaction: a price already bound elsewhere aborts the
 * whole plan, so a half-bound plan never exists.
 */
export async function createPlan(tx: DbOrTx, actor: Actor, input: CreatePlanInput): Promise<PlanView> {
  const product = await findProductBySlug(tx, input.product);
  if (!product) throw new AppError("PRODUCT_NOT_FOUND", `There is no product "${input.product}".`);
  if (product.archivedAt) throw new AppError("INVALID_STATE", `The product "${input.product}" is archived and takes no new plans.`);

  const [plan] = await tx
    .insert(plans)
    .values({
      productId: product.id,
      slug: input.slug,
      name: input.name,
      seats: input.seats,
      durationDays: input.durationDays,
      graceDays: input.graceDays,
      entitlements: input.entitlements,
      offlineTokenTtlSeconds: input.offlineTokenTtlSeconds ?? null,
      heartbeatWindowSeconds: input.heartbeatWindowSeconds ?? null,
      airGappedTtlDays: input.airGappedTtlDays ?? null,
      trialDays: input.trialDays ?? null,
      resetCooldownDays: input.resetCooldownDays,
      externalIds: input.externalIds,
      createdAt: now(),
    })
    .onConflictDoNothing({ target: plans.slug })
    .returning();
  if (!plan) throw new AppError("ALREADY_EXISTS", `A plan with slug "${input.slug}" already exists.`);

  if (input.stripePriceIds.length) {
    const bound = await tx
      .insert(planPrices)
      .values(input.stripePriceIds.map((stripePriceId) => ({ stripePriceId, planId: plan.id })))
      .onConflictDoNothing({ target: planPrices.stripePriceId })
      .returning({ stripePriceId: planPrices.stripePriceId });
    if (bound.length !== input.stripePriceIds.length) {
      const taken = input.stripePriceIds.filter((id) => !bound.some((b) => b.stripePriceId === id));
      // The caller's transaction rolls the plan back with this throw.
      throw new AppError("ALREADY_EXISTS", `Stripe price ${taken.join(", ")} already issues another plan.`, { stripePriceIds: taken });
    }
  }

  const view = toPlanView(plan, product.slug, input.stripePriceIds);
  await recordAudit(tx, actor, { action: "plan.created", subjectType: "plan", subjectId: plan.id, after: view });
  return view;
}

export async function listPlans(tx: DbOrTx): Promise<PlanView[]> {
  const rows = await tx
    .select({ plan: plans, productSlug: products.slug })
    .from(plans)
    .innerJoin(products, eq(products.id, plans.productId))
    .orderBy(asc(products.slug), asc(plans.slug));
  if (rows.length === 0) return [];
  const prices = await tx
    .select()
    .from(planPrices)
    .where(
      inArray(
        planPrices.planId,
        rows.map((r) => r.plan.id),
      ),
    )
    .orderBy(asc(planPrices.stripePriceId));
  const byPlan = new Map<string, string[]>();
  for (const p of prices) byPlan.set(p.planId, [...(byPlan.get(p.planId) ?? []), p.stripePriceId]);
  return rows.map((r) => toPlanView(r.plan, r.productSlug, byPlan.get(r.plan.id) ?? []));
}

// Editing and retiring. The slug never changes (client software, offline tokens and Stripe mapping name it);
// seats and duration apply to licenses issued from now on, while entitlements, grace days, token lifetime and
// the heartbeat window are read through the plan, so they apply to its existing licenses too.

export const UpdatePlanInput = z.strictObject({
  /** Slug of the plan to change. */
  plan: Slug,
  name: DisplayName.optional(),
  seats: z.number().int().min(1).max(1_000_000).optional(),
  durationDays: z.number().int().min(1).max(36_500).nullable().optional(),
  graceDays: z.number().int().min(0).max(3650).optional(),
  entitlements: z.array(storableText(1, 100)).max(200).transform(uniqueStrings).optional(),
  /** The complete new set of bound prices (replaces the old set). */
  stripePriceIds: z.array(storableText(1, 255)).max(100).transform(uniqueStrings).optional(),
  offlineTokenTtlSeconds: z.number().int().min(60).max(31_536_000).nullable().optional(),
  heartbeatWindowSeconds: z.number().int().min(60).max(31_536_000).nullable().optional(),
  airGappedTtlDays: AirGappedTtlDays.nullable().optional(),
  trialDays: TrialDays.nullable().optional(),
  resetCooldownDays: ResetCooldownDays.optional(),
  /** The complete new set of external ids (replaces the old set). */
  externalIds: ExternalIds.optional(),
});
export type UpdatePlanInput = z.infer<typeof UpdatePlanInput>;
/** The same change with the plan named by the URL (PATCH /api/v1/admin/plans/{slug}). */
export const UpdatePlanFields = UpdatePlanInput.omit({ plan: true });

export const SetPlanRetiredInput = z.strictObject({ plan: Slug, retired: z.boolean() });
export type SetPlanRetiredInput = z.infer<typeof SetPlanRetiredInput>;

async function lockPlan(tx: DbOrTx, slug: string) {
  const [found] = await tx
    .select({ plan: plans, productSlug: products.slug })
    .from(plans)
    .innerJoin(products, eq(products.id, plans.productId))
    .where(eq(plans.slug, slug))
    .for("update", { of: plans });
  if (!found) throw new AppError("PLAN_NOT_FOUND", `There is no plan "${slug}".`);
  const prices = await tx
    .select({ id: planPrices.stripePriceId })
    .from(planPrices)
    .where(eq(planPrices.planId, found.plan.id))
    .orderBy(asc(planPrices.stripePriceId));
  return { ...found, priceIds: prices.map((p) => p.id) };
}

/** Changes a plan; run in a transaction (a price bound to another plan aborts the whole change). */
export async function updatePlan(tx: DbOrTx, actor: Actor, input: UpdatePlanInput): Promise<PlanView> {
  const { plan, productSlug, priceIds } = await lockPlan(tx, input.plan);
  const { plan: _slug, stripePriceIds, ...fields } = input;
  const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const [row] = Object.keys(set).length
    ? await tx.update(plans).set(set).where(eq(plans.id, plan.id)).returning()
    : [plan];

  let bound = priceIds;
  if (stripePriceIds) {
    const dropped = priceIds.filter((id) => !stripePriceIds.includes(id));
    const added = stripePriceIds.filter((id) => !priceIds.includes(id));
    if (dropped.length) await tx.delete(planPrices).where(inArray(planPrices.stripePriceId, dropped));
    if (added.length) {
      const inserted = await tx
        .insert(planPrices)
        .values(added.map((stripePriceId) => ({ stripePriceId, planId: plan.id })))
        .onConflictDoNothing({ target: planPrices.stripePriceId })
        .returning({ stripePriceId: planPrices.stripePriceId });
      if (inserted.length !== added.length) {
        const taken = added.filter((id) => !inserted.some((b) => b.stripePriceId === id));
        throw new AppError("ALREADY_EXISTS", `Stripe price ${taken.join(", ")} already issues another plan.`, { stripePriceIds: taken });
      }
    }
    bound = [...stripePriceIds].sort();
  }

  const before = toPlanView(plan, productSlug, priceIds);
  const view = toPlanView(row!, productSlug, bound);
  await recordAudit(tx, actor, { action: "plan.updated", subjectType: "plan", subjectId: plan.id, before, after: view });
  return view;
}

/**
 * Retires a plan (or brings it back): it issues no new licenses by hand, and takes no new licenses through a
 * plan change. Licenses already issued keep working. Its Stripe prices stay bound, so a checkout that was
 * already open still issues what the customer paid for; archive the price in Stripe to stop selling it.
 */
export async function setPlanRetired(tx: DbOrTx, actor: Actor, input: SetPlanRetiredInput): Promise<PlanView> {
  const { plan, productSlug, priceIds } = await lockPlan(tx, input.plan);
  const before = toPlanView(plan, productSlug, priceIds);
  if (Boolean(plan.archivedAt) === input.retired) return before;
  const [row] = await tx
    .update(plans)
    .set({ archivedAt: input.retired ? now() : null })
    .where(eq(plans.id, plan.id))
    .returning();
  const view = toPlanView(row!, productSlug, priceIds);
  await recordAudit(tx, actor, {
    action: input.retired ? "plan.retired" : "plan.unretired",
    subjectType: "plan",
    subjectId: plan.id,
    before,
    after: view,
  });
  return view;
}
