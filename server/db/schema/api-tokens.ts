import { pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";

/** What a management API token may do. "admin" is every scope (server/domain/admin/api-tokens.ts grants()). */
export const API_TOKEN_SCOPES = ["read", "licenses:write", "catalog:write", "admin"] as const;
export type ApiTokenScope = (typeof API_TOKEN_SCOPES)[number];

/** Bearer tokens for the management API, made in the admin app or the API. Only the hash is kept. */
export const apiTokens = pgTable("api_tokens", {
  id: id(),
  name: text("name").notNull(),
  /** sha256 of the token (hex). */
  tokenHash: text("token_hash").notNull().unique(),
  /** First characters, shown so people can tell tokens apart ("ks_live_ab12…"). */
  tokenStart: text("token_start").notNull(),
  /**
   * What the token may do. Tokens made before scopes existed were full management tokens: the migration gives
   * them ["admin"], so upgrading takes nothing away from a running script.
   */
  scopes: text("scopes").array().$type<ApiTokenScope[]>().notNull().default(["admin"]),
  /** After this instant the token answers 401 like an unknown one; null: never expires. */
  expiresAt: ts("expires_at"),
  createdBy: text("created_by"),
  createdAt: createdAt(),
  lastUsedAt: ts("last_used_at"),
  revokedAt: ts("revoked_at"),
});
