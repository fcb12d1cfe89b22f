// POST /api/v1/internal/licenses/reset-activations-by-user-id { supabase_user_id } -> { status, reset } (Key Commander).
import { db } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { ResetByUserIdInput, resetActivationsByUserId } from "@/server/domain/integrations/key-commander";
import { internalRoute } from "@/server/rest/internal";

export const POST = internalRoute({ input: ResetByUserIdInput }, async ({ input }) => ({
  body: await db().transaction((tx) => resetActivationsByUserId(tx, input, now())),
}));

export const dynamic = "force-dynamic";
