import fs from "node:fs";
import { Readable } from "node:stream";
import type { Db } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { findLicenseForDownload, downloadRefusal } from "./access";
import { findRelease } from "./catalog";
import { absolutePath } from "./files";
import { verifyDownloadLink } from "./links";

/**
 * GET /api/v1/releases/download?r=&l=&e=&s= (a signed link from links.ts). In order: the link must verify and
 * not have expired (else 403, whatever else is wrong, so an altered link learns nothing); the license is read
 * again and must still be allowed the release (a revoked license gets a 403 and no byte); then the file
 * streams from disk (one byte range if asked, 206; 416 when the range lies outside it), or an external
 * release redirects (302).
 */

export type ByteRange = { start: number; end: number };

/**
 * One range of a `Range: bytes=...` header for a file of `size` bytes: the range, "unsatisfiable" (416), or
 * null to send the whole file (no header, another unit, or several ranges, which RFC 9110 lets a server ignore).
 */
export function parseRange(header: string | null, size: number): ByteRange | "unsatisfiable" | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const [, a, b] = m;
  if (a === "" && b === "") return null;
  if (a === "") {
    // The last b bytes.
    const n = Number(b);
    if (n === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || (b !== "" && Number(b) < start)) return "unsatisfiable";
  return { start, end };
}

const refused = () => new AppError("FORBIDDEN", "This download link has expired or is not valid; ask for a new one.");

/** RFC 6266: an ASCII fallback and the UTF-8 name. */
function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export async function serveDownload(db: Db, req: Request): Promise<Response> {
  const grant = verifyDownloadLink(new URL(req.url).searchParams);
  if (!grant) throw refused();
  const [release, license] = await Promise.all([findRelease(db, grant.releaseId), findLicenseForDownload(db, grant.licenseId)]);
  if (!release || release.yankedAt) throw new AppError("NOT_FOUND", "This release is no longer available.");
  if (!license) throw refused();
  const refusal = downloadRefusal(license, release, now());
  if (refusal) throw refusal;

  // Links are per license and short-lived: no cache may keep or share one's answer.
  const common = { "cache-control": "private, no-store", "referrer-policy": "no-referrer" };
  if (release.externalUrl) {
    return new Response(null, { status: 302, headers: { ...common, location: release.externalUrl } });
  }

  const file = absolutePath(release.storagePath!);
  let size: number;
  try {
    size = (await fs.promises.stat(file)).size;
  } catch {
    console.error(`[keystead] release ${release.id}: its file is missing from DATA_DIR (${release.storagePath})`);
    throw new AppError("NOT_FOUND", "This release's file is missing on the server; the seller has been told in the log.");
  }
  const etag = `"${release.sha256}"`;
  const headers: Record<string, string> = {
    ...common,
    "content-type": "application/octet-stream",
    "content-disposition": contentDisposition(release.fileName ?? "download"),
    "accept-ranges": "bytes",
    etag,
  };
  // If-Range: a range only applies to the same file (our ETag is its sha256); otherwise the whole file.
  const ifRange = req.headers.get("if-range");
  const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.get("range"), size);
  if (range === "unsatisfiable") {
    return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${size}`, "content-length": "0" } });
  }
  if (req.headers.get("if-none-match") === etag && !range) {
    return new Response(null, { status: 304, headers: { ...common, etag } });
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const length = size === 0 ? 0 : end - start + 1;
  headers["content-length"] = String(length);
  if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
  // Streamed from disk as the client reads it: memory stays flat for any size (test/bench/downloads.ts).
  const body =
    length === 0 || req.method === "HEAD"
      ? null
      : (Readable.toWeb(fs.createReadStream(file, { start, end, highWaterMark: 256 * 1024 })) as ReadableStream<Uint8Array>);
  return new Response(body, { status: range ? 206 : 200, headers });
}
