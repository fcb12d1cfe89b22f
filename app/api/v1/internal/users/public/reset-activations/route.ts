// POST /api/v1/internal/users/public/reset-activations { license_key, email }: the storefront's "reset my
// devices", under the plan's cooldown (429 with next_allowed_reset_at inside it) (Key Commander).
import { db } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { PublicResetActivationsInput, publicResetActivations } from "@/server/domain/integrations/key-commander";
import { limit } from "@/server/rest/handler";
import { internalRoute } from "@/server/rest/internal";

export const POST = internalRoute({ input: PublicResetActivationsInput }, async ({ input }) => {
  // Per email: the cooldown counts resets, this counts attempts.
  await limit(`kc-reset:${input.email.toLowerCase()}`, 10);
  return { body: await db().transaction((tx) => publicResetActivations(tx, input, now())) };
});

export const dynamic = "force-dynamic";
