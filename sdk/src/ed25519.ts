import * as ed from "@noble/ed25519";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import type { Jwk } from "./types";
import { base64UrlDecode } from "./encoding";

// noble's synchronous API needs a SHA-512; @noble/hashes gives one that runs in every runtime (WebCrypto's is
// async only). Sync verification is also the faster of noble's two paths (STACK.md).
ed.hashes.sha512 = sha512;

export { sha256 };

/** The 32 raw bytes of an Ed25519 JWK, or null when the JWK is anything else. */
export function ed25519PublicKey(jwk: Jwk | undefined): Uint8Array | null {
  if (!jwk || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") return null;
  if (jwk.alg !== undefined && jwk.alg !== "EdDSA") return null;
  const key = base64UrlDecode(jwk.x);
  return key && key.length === 32 ? key : null;
}

/** RFC 8032 verification (not ZIP-215), the same verdicts as OpenSSL-backed JOSE libraries. */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
