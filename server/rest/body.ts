import type { IncomingMessage } from "node:http";
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

/** What the bounded reader needs of a body: the web stream's reader, or the door's node:http one (nodeBody). */
export type ChunkReader = {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<void> | void;
};

/** The body's bytes, at most `maxBytes` of them; throws PAYLOAD_TOO_LARGE (413) or BAD_REQUEST (unreadable). */
export async function readBodyBytes(req: Request, maxBytes: number): Promise<Buffer> {
  const reader = req.body?.getReader();
  return readBounded(Number(req.headers.get("content-length") ?? "0"), reader && { read: () => reader.read(), cancel: () => reader.cancel() }, maxBytes);
}

/**
 * The one bounded read, for either kind of request: `declared` is the Content-Length (0 when none), `reader`
 * null when there is no body.
 */
export async function readBounded(declared: number, reader: ChunkReader | null | undefined, maxBytes: number): Promise<Buffer> {
  if (declared > maxBytes) {
    if (declared <= DRAIN_MAX_BYTES) await drain(reader ?? undefined);
    else await Promise.resolve(reader?.cancel()).catch(() => undefined);
    throw payloadTooLarge(maxBytes);
  }
  if (!reader) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || !value) break;
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
  return chunks.length === 1 ? Buffer.from(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength) : Buffer.concat(chunks);
}

/**
 * A node:http request's body as a ChunkReader, read only as fast as it is asked for. Cancelling (a refused
 * flood) stops reading but leaves the socket open, so the 413 still reaches the client; the door then closes
 * the connection after answering, since the rest of that body cannot be skipped.
 */
export function nodeBody(req: IncomingMessage): ChunkReader {
  const chunks: Buffer[] = [];
  let ended = false;
  let failed: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  req.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    req.pause();
    notify();
  });
  req.once("end", () => {
    ended = true;
    notify();
  });
  req.once("error", (err) => {
    failed = err;
    notify();
  });
  // A client gone mid-body: the reader gets an error (a 400 nobody reads), not a wait that never ends.
  req.once("close", () => {
    if (req.complete) return;
    failed ??= new Error("the client closed the connection mid-body");
    notify();
  });
  return {
    async read() {
      for (;;) {
        const value = chunks.shift();
        if (value) return { done: false, value };
        if (failed) throw failed;
        if (ended) return { done: true };
        req.resume();
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    cancel() {
      req.pause();
    },
  };
}

/** The body as UTF-8 text, at most `maxBytes` bytes; invalid UTF-8 is a 400. */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  return utf8(await readBodyBytes(req, maxBytes));
}

/** Body bytes as UTF-8 text; invalid UTF-8 is a 400. */
const decoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
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

async function drain(reader: ChunkReader | undefined, seen = 0) {
  if (!reader) return;
  try {
    while (seen <= DRAIN_MAX_BYTES) {
      const { done, value } = await reader.read();
      if (done || !value) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {
    /* the client went away: nothing left to answer */
  }
}
