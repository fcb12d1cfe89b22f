import { pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";

/** Bearer tokens for the management API, made in the admin app. Only the hash is kept. */
export const apiTokens = pgTable("api_tokens", {
  id: id(),
  name: text("name").notNull(),
  /** sha256 of the token (hex). */
  tokenHash: text("token_hash").notNull().unique(),
  /** First characters, shown so people can tell tokens apart ("ks_live_ab12…"). */
  tokenStart: text("token_start").notNull(),
  createdBy: text("created_by"),
  createdAt: createdAt(),
  lastUsedAt: ts("last_used_at"),
  revokedAt: ts("revoked_at"),
});
