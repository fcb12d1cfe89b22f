// GET /api/v1/jwks (also /.well-known/jwks.json): every public key whose tokens may still be valid.
import { db } from "@/server/db/client";
import { publishedKeys } from "@/server/domain/tokens/keyring";
import { methodNotAllowed, publicGetRoute } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = publicGetRoute(async () => ({
  body: { keys: await publishedKeys(db()) },
  // Short: a verifier that meets an unknown kid after a rotation should find the new key soon.
  headers: { "Cache-Control": "public, max-age=60" },
}));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
