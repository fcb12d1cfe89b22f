// POST /api/v1/admin/products/{slug}/unretire (the rules: server/domain/catalog/products.ts setProductRetired).
import { db } from "@/server/db/client";
import { setProductRetired } from "@/server/domain/catalog/products";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = adminRoute(API.unretireProduct, async ({ actor, params }) => {
  const product = await db().transaction((tx) => setProductRetired(tx, actor, { product: params.slug!, retired: false }));
  return { body: { product } };
});

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
