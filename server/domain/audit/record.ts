import { auditLog, type ActorType } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";

/** Who did something. Every door (REST, tRPC, worker) passes one down to the domain. */
export type Actor = { type: ActorType; id: string | null };

export const SYSTEM: Actor = { type: "system", id: null };

export type AuditEntry = {
  action: string;
  subjectType: "license" | "product" | "plan" | "customer" | "activation" | "signing_key" | "api_token" | "email" | "stripe_event" | "settings" | "release" | "import" | "webhook";
  subjectId: string;
  before?: unknown;
  after?: unknown;
  metadata?: Record<string, unknown>;
};

/** Records a change. Pass the same transaction as the change itself, so both commit or neither does. */
export async function recordAudit(tx: DbOrTx, actor: Actor, entry: AuditEntry) {
  await tx.insert(auditLog).values({
    actorType: actor.type,
    actorId: actor.id,
    action: entry.action,
    subjectType: entry.subjectType,
    subjectId: entry.subjectId,
    before: entry.before ?? null,
    after: entry.after ?? null,
    metadata: entry.metadata ?? null,
  });
}
