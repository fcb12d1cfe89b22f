// POST /api/v1/licenses/heartbeat: records that the machine is alive and hands it a fresh offline token.
import { db } from "@/server/db/client";
import { recordHeartbeat } from "@/server/domain/licensing/heartbeat";
import { HeartbeatInput } from "@/server/domain/licensing/inputs";
import { methodNotAllowed, publicJsonRoute } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const POST = publicJsonRoute({ name: "heartbeat", input: HeartbeatInput, key: (i) => i.key }, async (input) => ({
  body: await recordHeartbeat(db(), input),
}));

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
