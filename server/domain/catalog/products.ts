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

export const CreateProductInput = z.strictObject({ slug: Slug, name: DisplayName });
export type CreateProductInput = z.infer<typeof CreateProductInput>;

export type ProductView = { id: string; slug: string; name: string; createdAt: string; archivedAt: string | null };

type ProductRow = typeof products.$inferSelect;

export function toProductView(p: ProductRow): ProductView {
  return {
    id: p.id,
    slug: p.slug,
    name: p.name,
    createdAt: p.createdAt.toISOString(),
    archivedAt: p.archivedAt ? p.archivedAt.toISOString() : null,
  };
}

export async function createProduct(tx: DbOrTx, actor: Actor, input: CreateProductInput): Promise<ProductView> {
  // ON CONFLICT instead of catching 23505: a failed statement would poison the caller's transaction.
  const [row] = await tx
    .insert(products)
    .values({ slug: input.slug, name: input.name, createdAt: now() })
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
