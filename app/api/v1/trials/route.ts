// POST /api/v1/trials: ask for a card-free trial (server/rest/shop-routes.ts).
import { methodNotAllowed } from "@/server/rest/handler";
import { trialsPost } from "@/server/rest/shop-routes";

export const dynamic = "force-dynamic";
export const POST = trialsPost;
export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
