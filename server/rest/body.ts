import { AppError, isAppError } from "@/server/domain/errors";

/**
 * The one bounded body reader. Every route that reads a request body from an unauthenticated caller reads it
 * here: the body is consumed as a stream and refused with 413 PAYLOAD_TOO_LARGE as soon as it passes `maxBytes`,
 * whether or not the client announced a Content-Length (a chunked body announces nothing), so memory stays flat
 * however much a client sends.
 */

/**
 * An oversized body up to this size is read and thrown away before we answer 413: closing a connection the
 * client is still writing to resets it, and the client then sees ECONNRESET instead of our answer. Beyond
 * it, the client is abusive and the reset is fine.
 */
const DRAIN_MAX_BYTES = 1024 * 1024;

export const payloadTooLarge = (maxBytes: number) =>
  new AppError("PAYLOAD_TOO_LARGE", `The body must be at most ${maxBytes} bytes.`, { maxBytes });

/** The body's bytes, at most `maxBytes` of them; throws PAYLOAD_TOO_LARGE (413) or BAD_REQUEST (unreadable). */
export async function readBodyBytes(req: Request, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    if (declared <= DRAIN_MAX_BYTES) await drain(req.body?.getReader());
    else await req.body?.cancel().catch(() => undefined);
    throw payloadTooLarge(maxBytes);
  }
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await drain(reader, size);
        throw payloadTooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (isAppError(err)) throw err;
    throw new AppError("BAD_REQUEST", "The request body could not be read.");
  }
  return Buffer.concat(chunks);
}

/** The body as UTF-8 text, at most `maxBytes` bytes; invalid UTF-8 is a 400. */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  const bytes = await readBodyBytes(req, maxBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new AppError("BAD_REQUEST", "The request body is not valid UTF-8.");
  }
}

/**
 * The same request with its body read through `readBodyBytes` first, for libraries that read the body
 * themselves (next-auth, tRPC): they get a copy whose body is already bounded and in memory.
 */
export async function bufferedRequest(req: Request, maxBytes: number): Promise<Request> {
  if (req.method === "GET" || req.method === "HEAD") return req;
  const body = await readBodyBytes(req, maxBytes);
  return new Request(req.url, { method: req.method, headers: req.headers, body: new Uint8Array(body), signal: req.signal });
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array> | undefined, seen = 0) {
  if (!reader) return;
  try {
    while (seen <= DRAIN_MAX_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {
    /* the client went away: nothing left to answer */
  }
}
