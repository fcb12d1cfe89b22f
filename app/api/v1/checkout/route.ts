// POST /api/v1/checkout: a Stripe Checkout Session for one price (server/rest/shop-routes.ts).
import { methodNotAllowed } from "@/server/rest/handler";
import { checkoutPost } from "@/server/rest/shop-routes";

export const dynamic = "force-dynamic";
export const POST = checkoutPost;
export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
