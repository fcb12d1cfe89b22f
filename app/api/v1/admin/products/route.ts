// GET, POST /api/v1/admin/products
import { db } from "@/server/db/client";
import { CreateProductInput, createProduct, listProducts } from "@/server/domain/catalog/products";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute({}, async () => ({ body: { data: await listProducts(db()) } }));

export const POST = adminRoute({ input: CreateProductInput }, async ({ actor, input }) => {
  const product = await db().transaction((tx) => createProduct(tx, actor, input));
  return { status: 201, body: { product } };
});

export const { PUT, PATCH, DELETE } = methodNotAllowed("GET", "POST");
