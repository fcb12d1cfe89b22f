// POST /api/v1/trials/confirm: the trial confirm page's button (server/rest/shop-routes.ts).
import { methodNotAllowed } from "@/server/rest/handler";
import { trialsConfirmPost } from "@/server/rest/shop-routes";

export const dynamic = "force-dynamic";
export const POST = trialsConfirmPost;
export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
