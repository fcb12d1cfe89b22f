import { index, integer, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { ts } from "./_columns";

/**
 * next-auth's tables (@auth/drizzle-adapter's shape: the property names are the adapter's, the SQL names ours).
 * A user is a person who signed in with an email link; whether they are an admin (ADMIN_EMAILS) or which
 * customer they are (same email) is decided at each request, never stored here.
 */
export const users = pgTable("users", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name"),
  /** Lowercased by next-auth before it gets here. */
  email: text("email").notNull().unique(),
  emailVerified: ts("email_verified"),
  image: text("image"),
});

/** OAuth accounts; unused by the email provider, kept so the adapter is complete. */
export const accounts = pgTable(
  "accounts",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    provider: text("provider").notNull(),
    providerAccountId: text("provider_account_id").notNull(),
    refresh_token: text("refresh_token"),
    access_token: text("access_token"),
    expires_at: integer("expires_at"),
    token_type: text("token_type"),
    scope: text("scope"),
    id_token: text("id_token"),
    session_state: text("session_state"),
  },
  (t) => [primaryKey({ columns: [t.provider, t.providerAccountId] }), index("accounts_user_idx").on(t.userId)],
);

/** Database sessions: the cookie holds the token, this row its hash (server/auth/hashed-adapter.ts), whose it is and until when. */
export const sessions = pgTable(
  "sessions",
  {
    sessionToken: text("session_token").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expires: ts("expires").notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/** Pending email sign-in links. `token` is next-auth's sha256 of the emailed token and AUTH_SECRET, never the token. */
export const verificationTokens = pgTable(
  "verification_tokens",
  {
    identifier: text("identifier").notNull(),
    token: text("token").notNull(),
    expires: ts("expires").notNull(),
  },
  (t) => [primaryKey({ columns: [t.identifier, t.token] })],
);
