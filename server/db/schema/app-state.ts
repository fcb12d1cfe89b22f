import { jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { ts } from "./_columns";

/** Small named facts the system keeps about itself: webhook last seen, reconciliation cursor and last run. */
export const appState = pgTable("app_state", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});
