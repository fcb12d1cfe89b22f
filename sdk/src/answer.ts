import { base64UrlDecode, base64UrlEncode, utf8 } from "./encoding";
import { ed25519PublicKey, sha256, verifyEd25519 } from "./ed25519";
import type { Jwk } from "./types";

/**
 * Signed answers (CONTRACT.md "Signed answers"): the client's half. An answer counts only if its
 * Keystead-Signature verifies over the five lines for the nonce this client sent, and its Date is fresh.
 */

export const MAX_DATE_SKEW_MS = 5 * 60_000;

const SIGNATURE_HEADER = /^kid="([^"]+)", alg="EdDSA", sig="([A-Za-z0-9_-]+)"$/;

export function newNonce(): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(18)));
}

/** The kid an answer claims to be signed with (null when it carries no well-formed signature). */
export function answerKid(headers: Headers): string | null {
  return SIGNATURE_HEADER.exec(headers.get("keystead-signature") ?? "")?.[1] ?? null;
}

export type AnswerCheck = { ok: true; date: number } | { ok: false };

export function verifyAnswer(opts: {
  method: string;
  path: string;
  nonce: string;
  headers: Headers;
  body: Uint8Array;
  keys: Jwk[];
  /** Times the Date may be near: this client's clock and its last trusted time. */
  nearAny: number[];
}): AnswerCheck {
  const m = SIGNATURE_HEADER.exec(opts.headers.get("keystead-signature") ?? "");
  const dateText = opts.headers.get("date");
  if (!m || !dateText) return { ok: false };
  const date = Date.parse(dateText);
  if (!Number.isFinite(date) || !opts.nearAny.some((t) => Math.abs(date - t) <= MAX_DATE_SKEW_MS)) return { ok: false };
  const publicKey = ed25519PublicKey(opts.keys.find((k) => k.kid === m[1]));
  const signature = base64UrlDecode(m[2]!);
  if (!publicKey || !signature) return { ok: false };
  const message = utf8(
    ["keystead-response-v1", `${opts.method} ${opts.path}`, opts.nonce, dateText, base64UrlEncode(sha256(opts.body))].join("\n"),
  );
  return verifyEd25519(signature, message, publicKey) ? { ok: true, date } : { ok: false };
}
