// PATCH /api/v1/admin/products/{slug}: rename a product (the slug itself never changes).
import { db } from "@/server/db/client";
import { updateProduct } from "@/server/domain/catalog/products";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const PATCH = adminRoute(API.updateProduct, async ({ actor, params, input }) => {
  const product = await db().transaction((tx) => updateProduct(tx, actor, { ...input, product: params.slug! }));
  return { body: { product } };
});

export const { GET, POST, PUT, DELETE } = methodNotAllowed("PATCH");
