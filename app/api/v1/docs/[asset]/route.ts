// GET /api/v1/docs/{scalar.js,init.js}: the reference page's own scripts, from our node_modules (no CDN).
import { methodNotAllowed } from "@/server/rest/handler";
import { referenceAsset } from "@/server/rest/api-reference";

export const dynamic = "force-dynamic";

export async function GET(_req: Request, ctx: { params: Promise<{ asset: string }> }) {
  return referenceAsset((await ctx.params).asset);
}

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
