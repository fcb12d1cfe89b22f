// GET /api/v1/checkout/sessions/{id}: what the success page polls (server/rest/shop-routes.ts).
import { methodNotAllowed } from "@/server/rest/handler";
import { checkoutSessionGet } from "@/server/rest/shop-routes";

export const dynamic = "force-dynamic";
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }) {
  return checkoutSessionGet(req, (await ctx.params).id);
}
export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
