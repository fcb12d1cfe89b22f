import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { products } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { storableText } from "@/server/domain/admin/text";
import { AppError } from "@/server/domain/errors";

/** Slugs name products and plans in the API, in offline tokens and in client software: keep them URL- and code-safe. */
export const Slug = z
  .string()
  .regex(/^[a-z0-9-]{1,64}$/, "Use 1 to 64 characters: lowercase letters, digits and dashes.");

export const DisplayName = storableText(1, 200);

/** Identifiers other systems know a product by (a storefront template's product ids, Stripe product ids). */
const ProductExternalIds = z
  .array(storableText(1, 255))
  .max(50)
  .transform((ids) => [...new Set(ids)]);

export const CreateProductInput = z.strictObject({ slug: Slug, name: DisplayName, externalIds: ProductExternalIds.default([]) });
export type CreateProductInput = z.infer<typeof CreateProductInput>;

export type ProductView = {
  id: string;
  slug: string;
  name: string;
  externalIds: string[];
  createdAt: string;
  archivedAt: string | null;
};

type ProductRow = typeof products.$inferSelect;

export function toProductView(p: ProductRow): ProductView {
  return {
    id: p.id,
    slug: p.slug,
    name: p.name,
    externalIds: p.externalIds,
    createdAt: p.createdAt.toISOString(),
    archivedAt: p.archivedAt ? p.archivedAt.toISOString() : null,
  };
}

export async function createProduct(tx: DbOrTx, actor: Actor, input: CreateProductInput): Promise<ProductView> {
  // ON CONFLICT instead of catching 23505: a failed statement would poison the caller's transaction.
  const [row] = await tx
    .insert(products)
    .values({ slug: input.slug, name: input.name, externalIds: input.externalIds, createdAt: now() })
    .onConflictDoNothing({ target: products.slug })
    .returning();
  if (!row) throw new AppError("ALREADY_EXISTS", `A product with slug "${input.slug}" already exists.`);
  const view = toProductView(row);
  await recordAudit(tx, actor, { action: "product.created", subjectType: "product", subjectId: row.id, after: view });
  return view;
}

export async function listProducts(tx: DbOrTx): Promise<ProductView[]> {
  const rows = await tx.select().from(products).orderBy(asc(products.slug));
  return rows.map(toProductView);
}

export async function findProductBySlug(tx: DbOrTx, slug: string): Promise<ProductRow | null> {
  const [row] = await tx.select().from(products).where(eq(products.slug, slug));
  return row ?? null;
}

// Editing and retiring. The slug never changes: client software and offline tokens carry it.

export const UpdateProductInput = z.strictObject({
  product: Slug,
  name: DisplayName.optional(),
  /** The complete new set of external ids (replaces the old set). */
  externalIds: ProductExternalIds.optional(),
});
export type UpdateProductInput = z.infer<typeof UpdateProductInput>;

export const SetProductRetiredInput = z.strictObject({ product: Slug, retired: z.boolean() });
export type SetProductRetiredInput = z.infer<typeof SetProductRetiredInput>;

async function lockProduct(tx: DbOrTx, slug: string): Promise<ProductRow> {
  const [row] = await tx.select().from(products).where(eq(products.slug, slug)).for("update");
  if (!row) throw new AppError("PRODUCT_NOT_FOUND", `There is no product "${slug}".`);
  return row;
}

export async function updateProduct(tx: DbOrTx, actor: Actor, input: UpdateProductInput): Promise<ProductView> {
  const before = await lockProduct(tx, input.product);
  const set = { name: input.name ?? before.name, externalIds: input.externalIds ?? before.externalIds };
  const [row] = await tx.update(products).set(set).where(eq(products.id, before.id)).returning();
  const view = toProductView(row!);
  await recordAudit(tx, actor, {
    action: "product.updated",
    subjectType: "product",
    subjectId: before.id,
    before: toProductView(before),
    after: view,
  });
  return view;
}

/**
 * Retires a product (or brings it back). A retired product keeps every license working and its plans as they
 * are; it only takes no new plans. Retire its plans too to stop issuing licenses of it.
 */
export async function setProductRetired(tx: DbOrTx, actor: Actor, input: SetProductRetiredInput): Promise<ProductView> {
  const before = await lockProduct(tx, input.product);
  if (Boolean(before.archivedAt) === input.retired) return toProductView(before);
  const [row] = await tx
    .update(products)
    .set({ archivedAt: input.retired ? now() : null })
    .where(eq(products.id, before.id))
    .returning();
  const view = toProductView(row!);
  await recordAudit(tx, actor, {
    action: input.retired ? "product.retired" : "product.unretired",
    subjectType: "product",
    subjectId: before.id,
    before: toProductView(before),
    after: view,
  });
  return view;
}
