import crypto from "node:crypto";
import { db } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { activeSigningKey, type SigningKey } from "@/server/domain/tokens/keyring";
import { errorField, logger } from "@/server/observability/log";
import type { PublicAnswer } from "./public-route";

/**
 * Signed answers (CONTRACT.md "Signed answers"): every answer of the public license routes, errors included,
 * carries `Date` and `Keystead-Signature`, so client software can tell Keystead from an impostor on its
 * network. The signature covers five lines: a version tag, the method and path, the client's nonce (so an
 * answer cannot be replayed to another request), the Date (so an old one cannot be replayed later) and the
 * sha256 of the exact body bytes.
 */

export const NONCE_HEADER = "keystead-nonce";
export const MAX_NONCE_LENGTH = 128;
export const SIGNATURE_VERSION = "keystead-response-v1";

/** The bytes a signature covers; exported so tests verify exactly what the contract describes. */
export function signingInput(opts: { method: string; path: string; nonce: string; date: string; body: Uint8Array }): Buffer {
  const digest = crypto.createHash("sha256").update(opts.body).digest("base64url");
  return Buffer.from([SIGNATURE_VERSION, `${opts.method} ${opts.path}`, opts.nonce, opts.date, digest].join("\n"), "utf8");
}

/** Refuses a nonce longer than the contract allows (the 400 it causes is signed like any other answer). */
export function checkNonce(nonce: string) {
  if (nonce.length > MAX_NONCE_LENGTH) {
    throw new AppError("BAD_REQUEST", `The Keystead-Nonce header must be at most ${MAX_NONCE_LENGTH} characters.`);
  }
}

// The active key is re-read at most this often instead of once per answer: answers include every 429 of a
// flood, which must not each cost a database query. Signing with a key for a few seconds after a rotation is
// harmless: a retired key stays in the JWKS for at least a token lifetime.
const KEY_REFRESH_MS = 30_000;
let current: { key: SigningKey; readAt: number } | null = null;
let refreshing: Promise<SigningKey> | null = null;

/** The key answers are signed with: from memory while it is fresh (no await at all), else re-read. */
function answerSigningKey(): SigningKey | Promise<SigningKey> {
  if (current && Date.now() - current.readAt < KEY_REFRESH_MS) return current.key;
  refreshing ??= activeSigningKey(db())
    .then((key) => {
      current = { key, readAt: Date.now() };
      return key;
    })
    .finally(() => {
      refreshing = null;
    });
  // The database is gone for a moment: keep signing with the key we had rather than answer unsigned.
  return refreshing.catch((err: unknown) => {
    if (current) return current.key;
    throw err;
  });
}

/** What an answer's signature binds it to, besides its body: the request it answers. */
export type SignedFor = { method: string; path: string; nonce: string };

/** `answer` with `Date` and `Keystead-Signature` added, for its exact body bytes and the request `to`. */
export function signAnswer(to: SignedFor, answer: PublicAnswer): PublicAnswer | Promise<PublicAnswer> {
  const key = answerSigningKey();
  if (!(key instanceof Promise)) return signedWith(key, to, answer);
  return key.then(
    (k) => signedWith(k, to, answer),
    (err: unknown) => {
      // No key at all (the database has never answered since start-up): the client treats an unsigned answer
      // like no answer and falls back to its offline token, which is what it would do for this 5xx anyway.
      logger().error({ err: errorField(err) }, "[keystead] cannot sign an answer, no signing key readable");
      return answer;
    },
  );
}

function signedWith(key: SigningKey, to: SignedFor, answer: PublicAnswer): PublicAnswer {
  const date = now().toUTCString();
  const input = signingInput({ method: to.method, path: to.path, nonce: to.nonce, date, body: answer.body });
  const sig = key.sign(input).toString("base64url");
  return {
    ...answer,
    headers: { ...answer.headers, date, "keystead-signature": `kid="${key.kid}", alg="EdDSA", sig="${sig}"` },
  };
}
