import { bigserial, index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt } from "./_columns";

export const ACTOR_TYPES = ["admin", "api_token", "customer", "stripe", "system"] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** Append-only record of every change, written in the same transaction as the change. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    at: createdAt(),
    actorType: text("actor_type").$type<ActorType>().notNull(),
    /** Admin email, API token id, customer id or Stripe event id. */
    actorId: text("actor_id"),
    action: text("action").notNull(),
    subjectType: text("subject_type").notNull(),
    subjectId: text("subject_id").notNull(),
    before: jsonb("before"),
    after: jsonb("after"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>(),
  },
  (t) => [
    index("audit_log_subject_idx").on(t.subjectType, t.subjectId, t.id),
    index("audit_log_at_idx").on(t.at),
    // The admin audit page filters by who or by what happened, newest first (keyset on id).
    index("audit_log_actor_idx").on(t.actorType, t.actorId, t.id),
    index("audit_log_action_idx").on(t.action, t.id),
  ],
);
