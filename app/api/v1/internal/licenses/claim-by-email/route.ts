// POST /api/v1/internal/licenses/claim-by-email { supabase_user_id, email } -> { claimed } (Key Commander).
import { db } from "@/server/db/client";
import { ClaimByEmailInput, claimLicensesByEmail, KEY_COMMANDER_ACTOR } from "@/server/domain/integrations/key-commander";
import { internalRoute } from "@/server/rest/internal";

export const POST = internalRoute({ input: ClaimByEmailInput }, async ({ input }) => ({
  body: await db().transaction((tx) => claimLicensesByEmail(tx, KEY_COMMANDER_ACTOR, input)),
}));

export const dynamic = "force-dynamic";
