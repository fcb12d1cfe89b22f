import { bigint, date, pgTable, primaryKey, text } from "drizzle-orm/pg-core";

export const USAGE_METRICS = ["validations", "activations"] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];

/**
 * Counts per UTC day for the dashboard's charts. Written by an in-memory counter that flushes every few seconds
 * (server/domain/usage/counter.ts), never once per request: the validate route is the hot path.
 */
export const usageDaily = pgTable(
  "usage_daily",
  {
    day: date("day", { mode: "string" }).notNull(),
    metric: text("metric").$type<UsageMetric>().notNull(),
    count: bigint("count", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.day, t.metric] })],
);
