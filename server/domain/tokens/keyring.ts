import crypto from "node:crypto";
import { desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { signingKeys } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { open, seal } from "@/server/domain/secret-box";
import { ed25519Signer, type Ed25519Signer } from "./ed25519";

/**
 * Ed25519 signing keys for offline tokens and signed answers. The private key is sealed with AUTH_SECRET before
 * it is stored; signing is native (libsodium, else node:crypto: ./ed25519.ts), many times the pure-JS rate
 * (STACK.md), and the signatures are the same bytes any verifier (jose, @noble/ed25519) checks.
 */
export type SigningKey = { kid: string; privateKey: crypto.KeyObject; publicKeyX: string; sign: Ed25519Signer };

export type PublicJwk = { kty: "OKP"; crv: "Ed25519"; x: string; kid: string; alg: "EdDSA"; use: "sig" };

const cache = new Map<string, SigningKey>();

function newKid() {
  return `ks-${now().toISOString().slice(0, 10)}-${crypto.randomBytes(4).toString("hex")}`;
}

/** Creates and stores a fresh signing key; it becomes the one that signs. */
export async function createSigningKey(tx: DbOrTx) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const x = publicKey.export({ format: "jwk" }).x!;
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  const kid = newKid();
  await tx.insert(signingKeys).values({
    kid,
    publicKey: x,
    privateKeyCiphertext: seal("signing-key", pkcs8),
    createdAt: now(),
  });
  return kid;
}

/** Makes sure a key exists to sign with (first start). Safe when several processes start at once. */
export async function ensureSigningKey(db: DbOrTx) {
  const current = await db.select({ kid: signingKeys.kid }).from(signingKeys).where(isNull(signingKeys.retiredAt)).limit(1);
  if (current.length) return;
  await db.transaction(async (tx) => {
    // Serialise concurrent first starts so exactly one key is created.
    await tx.execute(sql`select pg_advisory_xact_lock(72617)`);
    const again = await tx.select({ kid: signingKeys.kid }).from(signingKeys).where(isNull(signingKeys.retiredAt)).limit(1);
    if (!again.length) await createSigningKey(tx);
  });
}

/** The key that signs new tokens: the newest one not retired. */
export async function activeSigningKey(db: DbOrTx): Promise<SigningKey> {
  const [row] = await db
    .select()
    .from(signingKeys)
    .where(isNull(signingKeys.retiredAt))
    .orderBy(desc(signingKeys.createdAt))
    .limit(1);
  if (!row) throw new Error("no signing key: boot() creates one at start-up");
  return cache.get(row.kid) ?? parsedKey(row);
}

/**
 * The key named `kid`, for a caller that has just read which key is active in its own query (the hot path's
 * lookup, server/domain/licensing/lookup.ts): parsed once, then from memory.
 */
export async function signingKeyByKid(db: DbOrTx, kid: string): Promise<SigningKey> {
  const cached = cache.get(kid);
  if (cached) return cached;
  const [row] = await db.select().from(signingKeys).where(eq(signingKeys.kid, kid));
  if (!row) throw new Error(`no signing key ${kid}`);
  return parsedKey(row);
}

function parsedKey(row: typeof signingKeys.$inferSelect): SigningKey {
  const der = open("signing-key", row.privateKeyCiphertext);
  const privateKey = crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const key = { kid: row.kid, privateKey, publicKeyX: row.publicKey, sign: ed25519Signer(privateKey) };
  cache.set(row.kid, key);
  return key;
}

/** The statement that names the active key, for a query that wants to read it with its own rows. */
export const ACTIVE_KID_SQL = "select kid from signing_keys where retired_at is null order by created_at desc limit 1";

/** Every key whose tokens may still be valid: never retired, or retired but not yet past unpublishAt. */
export async function publishedKeys(db: DbOrTx): Promise<PublicJwk[]> {
  const rows = await db
    .select({ kid: signingKeys.kid, x: signingKeys.publicKey })
    .from(signingKeys)
    .where(or(isNull(signingKeys.unpublishAt), gt(signingKeys.unpublishAt, now())))
    .orderBy(desc(signingKeys.createdAt));
  return rows.map((r) => ({ kty: "OKP", crv: "Ed25519", x: r.x, kid: r.kid, alg: "EdDSA", use: "sig" }));
}

/**
 * Rotation: a new key signs from now on; the old one stays published until every token it signed has
 * expired (`maxTokenLifetimeSeconds` from now).
 */
export async function rotateSigningKey(tx: DbOrTx, maxTokenLifetimeSeconds: number) {
  const at = now();
  await tx
    .update(signingKeys)
    .set({ retiredAt: at, unpublishAt: new Date(at.getTime() + maxTokenLifetimeSeconds * 1000) })
    .where(isNull(signingKeys.retiredAt));
  return createSigningKey(tx);
}
