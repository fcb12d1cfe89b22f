import crypto from "node:crypto";
import fs from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { AppError } from "@/server/domain/errors";
import { env } from "@/server/env";
import { newIncomingPath, removeQuietly } from "./files";

/**
 * Reads a multipart/form-data upload as a stream: the text fields into memory (small and bounded), the one
 * file straight to a temporary file under DATA_DIR, hashed (sha256) on the way. Memory stays flat whatever
 * the file's size. A file over RELEASE_MAX_BYTES is refused with 413 and its temporary file removed; the
 * rest of its body is read and discarded (busboy does so once the limit is hit) so the client hears the 413
 * instead of a reset connection.
 */

export type UploadedFile = { tmpPath: string; sha256: string; size: number; fileName: string };
export type ParsedUpload = { fields: Record<string, string>; file: UploadedFile | null };

/** Room for the multipart framing and text fields around the file itself. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;
const MAX_FIELD_BYTES = 16 * 1024;

const tooLarge = (maxBytes: number) =>
  new AppError("PAYLOAD_TOO_LARGE", `The file must be at most ${maxBytes} bytes (RELEASE_MAX_BYTES).`, { maxBytes });

/** A file name safe for Content-Disposition and logs: the last path segment, printable, bounded. */
function cleanFileName(name: string | undefined): string {
  const base = (name ?? "").split(/[\\/]/).pop() ?? "";
  const printable = base.replace(/[\u0000-\u001f\u007f"]/g, "").trim().slice(0, 200);
  return printable && printable.isWellFormed() ? printable : "download";
}

export async function readReleaseUpload(req: Request, maxBytes = env().RELEASE_MAX_BYTES): Promise<ParsedUpload> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\b/i.test(type)) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the release as multipart/form-data (fields and a file named \"file\").");
  }
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes + FORM_OVERHEAD_BYTES) {
    await req.body?.cancel().catch(() => undefined);
    throw tooLarge(maxBytes);
  }
  if (!req.body) throw new AppError("BAD_REQUEST", "The request has no body.");

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { "content-type": type },
      // One byte over the limit: busboy marks a file of exactly fileSize bytes truncated too.
      limits: { files: 1, fileSize: maxBytes + 1, fields: 20, fieldSize: MAX_FIELD_BYTES, parts: 30 },
    });
  } catch {
    throw new AppError("BAD_REQUEST", "The multipart body has no boundary.");
  }

  const fields: Record<string, string> = {};
  let file: UploadedFile | null = null;
  let failure: AppError | null = null;
  const fail = (err: AppError) => (failure ??= err);
  const writes: Promise<void>[] = [];

  parser.on("field", (name, value, info) => {
    if (info.valueTruncated) fail(new AppError("BAD_REQUEST", `The field "${name}" is longer than ${MAX_FIELD_BYTES} bytes.`));
    else if (!(name in fields)) fields[name] = value;
  });
  parser.on("filesLimit", () => fail(new AppError("BAD_REQUEST", "Send one file per release.")));
  parser.on("fieldsLimit", () => fail(new AppError("BAD_REQUEST", "Too many form fields.")));
  parser.on("partsLimit", () => fail(new AppError("BAD_REQUEST", "Too many form parts.")));
  parser.on("file", (name, stream, info) => {
    if (name !== "file") {
      fail(new AppError("BAD_REQUEST", `Unexpected file field "${name}": send the release as "file".`));
      stream.resume();
      return;
    }
    writes.push(
      (async () => {
        const tmpPath = await newIncomingPath();
        const hash = crypto.createHash("sha256");
        let size = 0;
        const hashing = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            size += chunk.byteLength;
            done(null, chunk);
          },
        });
        try {
          await pipeline(stream, hashing, fs.createWriteStream(tmpPath, { flags: "wx" }));
        } catch (err) {
          await removeQuietly(tmpPath);
          throw err;
        }
        // busboy stops handing over bytes at the limit and marks the stream truncated.
        if ((stream as unknown as { truncated?: boolean }).truncated || size > maxBytes) {
          await removeQuietly(tmpPath);
          fail(tooLarge(maxBytes));
          return;
        }
        file = { tmpPath, sha256: hash.digest("hex"), size, fileName: cleanFileName(info.filename) };
      })(),
    );
  });

  try {
    await pipeline(Readable.fromWeb(req.body as import("node:stream/web").ReadableStream<Uint8Array>), parser);
    await Promise.all(writes);
  } catch (err) {
    await Promise.allSettled(writes);
    if (file) await removeQuietly((file as UploadedFile).tmpPath);
    if (err instanceof AppError) throw err;
    throw new AppError("BAD_REQUEST", "The multipart body could not be read to its end.");
  }
  if (failure) {
    if (file) await removeQuietly((file as UploadedFile).tmpPath);
    throw failure;
  }
  return { fields, file };
}
