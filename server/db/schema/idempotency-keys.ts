
import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, ts } from "./_columns";

/**
 * `Idempotency-Key` on mutating management API calls (server/rest/idempotency.ts). One row per (actor, key): the
 * first request claims it and runs; its answer is stored, and the same key with the same method, path and body
 * gets that answer back for 24 hours. A row without completed_at is a request still running (or one that died:
 * claims older than the lease are taken over).
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Who sent it: "api_token:<id>" or "api_token:bootstrap". Two callers' keys never meet. */
    actor: text("actor").notNull(),
    key: text("key").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    /** sha256 (hex) of the request body bytes. */
    bodyHash: text("body_hash").notNull(),
    /** The stored answer, once the first request finished. */
    status: integer("status"),
    response: jsonb("response"),
    createdAt: createdAt(),
    completedAt: ts("completed_at"),
  },
  (t) => [
    uniqueIndex("idempotency_keys_actor_key_uq").on(t.actor, t.key),
    // The daily sweep deletes by age.
    index("idempotency_keys_created_at_idx").on(t.createdAt),
  ],
);

