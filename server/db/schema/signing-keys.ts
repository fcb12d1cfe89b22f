import { pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, ts } from "./_columns";

/** Ed25519 keys for offline tokens. The newest un-retired key signs; all published ones stay in the JWKS. */
export const signingKeys = pgTable("signing_keys", {
  kid: text("kid").primaryKey(),
  /** Raw 32-byte public key, base64url (the JWK `x`). */
  publicKey: text("public_key").notNull(),
  /** PKCS#8 private key encrypted with a key derived from AUTH_SECRET (AES-256-GCM). */
  privateKeyCiphertext: text("private_key_ciphertext").notNull(),
  createdAt: createdAt(),
  /** Stops signing from this moment; stays in the JWKS until tokens it signed have expired. */
  retiredAt: ts("retired_at"),
  /** Leaves the JWKS at this moment (retiredAt + the longest token lifetime). */
  unpublishAt: ts("unpublish_at"),
});
