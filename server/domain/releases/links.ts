import crypto from "node:crypto";
import { now } from "@/server/domain/clock";
import { mac } from "@/server/domain/secret-box";
import { env } from "@/server/env";

/**
 * Short-lived signed download links: `/api/v1/releases/download?r=<release>&l=<license>&e=<expiry>&s=<mac>`.
 * The MAC (HMAC-SHA256 under a key derived from AUTH_SECRET for this purpose alone) covers the release id, the
 * license id and the expiry, so none of them can be changed; the link proves only "Keystead handed this
 * license this release until then". The license is checked again when the link is used (serve.ts): a link
 * made a minute before a revocation downloads nothing after it. Nothing is stored: a link is not a secret of
 * the database, and a rotation of AUTH_SECRET simply ends the links in flight (they live minutes).
 */

const PURPOSE = "release-download";
export const DOWNLOAD_PATH = "/api/v1/releases/download";

export type DownloadGrant = { releaseId: string; licenseId: string; expiresAt: Date };

const signed = (releaseId: string, licenseId: string, expires: number) => mac(PURPOSE, `${releaseId}.${licenseId}.${expires}`);

/** A link to `releaseId` for `licenseId`, valid DOWNLOAD_LINK_TTL seconds (10 minutes by default). */
export function signDownloadLink(releaseId: string, licenseId: string, ttlSeconds = env().DOWNLOAD_LINK_TTL): { url: string; expiresAt: Date } {
  const expires = Math.floor(now().getTime() / 1000) + ttlSeconds;
  const query = new URLSearchParams({ r: releaseId, l: licenseId, e: String(expires), s: signed(releaseId, licenseId, expires) });
  return { url: `${env().APP_URL}${DOWNLOAD_PATH}?${query}`, expiresAt: new Date(expires * 1000) };
}

/** The grant a link's query carries, or null when it was altered, is malformed or has expired. */
export function verifyDownloadLink(query: URLSearchParams): DownloadGrant | null {
  const releaseId = query.get("r") ?? "";
  const licenseId = query.get("l") ?? "";
  const e = query.get("e") ?? "";
  const s = query.get("s") ?? "";
  if (!/^\d{1,12}$/.test(e) || !releaseId || !licenseId || releaseId.length > 64 || licenseId.length > 64) return null;
  const expires = Number(e);
  const expected = Buffer.from(signed(releaseId, licenseId, expires));
  const given = Buffer.from(s);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  if (expires * 1000 <= now().getTime()) return null;
  return { releaseId, licenseId, expiresAt: new Date(expires * 1000) };
}
