import { boolean, index, jsonb, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";
import { licenses } from "./licenses";

export const activations = pgTable(
  "activations",
  {
    id: id(),
    licenseId: uuid("license_id")
      .notNull()
      .references(() => licenses.id, { onDelete: "cascade" }),
    /** Opaque machine identifier chosen by the client software. */
    fingerprint: text("fingerprint").notNull(),
    name: text("name"),
    platform: text("platform"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    lastSeenAt: ts("last_seen_at").notNull().defaultNow(),
    /**
     * Made by an activation file for a machine that never calls us: lastSeenAt stays its creation time, so
     * it must not count as lapsed on a floating-seat plan, and lists say why it is never seen.
     */
    airGapped: boolean("air_gapped").notNull().default(false),
  },
  (t) => [
    unique("activations_license_fingerprint_unique").on(t.licenseId, t.fingerprint),
    index("activations_fingerprint_idx").on(t.fingerprint),
  ],
);
