import crypto from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import type * as Sodium from "sodium-native";
import { parseSetting } from "@/server/env";

/**
 * Ed25519 signing for offline tokens and signed answers: libsodium (sodium-native) where it loads, node:crypto
 * otherwise. Ed25519 signatures are deterministic (RFC 8032), so both give the same bytes for the same key and
 * message (ed25519.test.ts checks it). libsodium costs about half of node:crypto per signature (measured here:
 * 25 us vs 45 us; `npm run bench` prints both), because node:crypto sets up an OpenSSL context, with its name
 * lookups, for every signature: on the license routes, whose every answer is signed, that is the largest cost
 * of our own after the database round trip.
 */

/** Signs one message: the 64-byte signature. */
export type Ed25519Signer = (message: Uint8Array) => Buffer;

type SodiumApi = typeof Sodium;

/**
 * sodium-native is loaded at run time from the installed node_modules (the image copies it there,
 * scripts/build-standalone.sh) rather than bundled: it is a native addon with a prebuilt binary per platform.
 * A platform without one (no prebuild, no compiler) falls back to node:crypto, with the same signatures.
 */
function loadSodium(): SodiumApi | null {
  // ED25519_SIGNER=node (README "Settings") chooses node:crypto outright.
  if (parseSetting("ED25519_SIGNER") === "node") return null;
  try {
    const load = createRequire(path.join(process.cwd(), "package.json"));
    const name = "sodium-native";
    return load(name) as SodiumApi;
  } catch {
    return null;
  }
}

const sodium = loadSodium();

/** Which implementation signs in this process: "libsodium" or "node:crypto". */
export const ed25519Backend: "libsodium" | "node:crypto" = sodium ? "libsodium" : "node:crypto";

/** A signer for `privateKey` (an Ed25519 KeyObject), its key material prepared once. */
export function ed25519Signer(privateKey: crypto.KeyObject): Ed25519Signer {
  if (!sodium) return (message) => crypto.sign(null, message, privateKey);
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
  // Guarded, locked memory: the secret key never sits in the ordinary heap (nor in a heap snapshot).
  const secretKey = sodium.sodium_malloc(sodium.crypto_sign_SECRETKEYBYTES);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  seed.fill(0);
  return (message) => {
    const signature = Buffer.allocUnsafe(sodium.crypto_sign_BYTES);
    sodium.crypto_sign_detached(signature, message as Buffer, secretKey);
    return signature;
  };
}
