// GET, POST /api/v1/admin/products
import { db } from "@/server/db/client";
import { createProduct, listProducts } from "@/server/domain/catalog/products";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.listProducts, async () => ({ body: { data: await listProducts(db()), nextCursor: null } }));

export const POST = adminRoute(API.createProduct, async ({ actor, input }) => {
  const product = await db().transaction((tx) => createProduct(tx, actor, input));
  return { status: 201, body: { product } };
});

export const { PUT, PATCH, DELETE } = methodNotAllowed("GET", "POST");
