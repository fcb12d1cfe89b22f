import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** One message the catcher accepted, with its MIME parts decoded. */
export type CaughtMessage = {
  from: string;
  to: string[];
  headers: Record<string, string>;
  subject: string;
  messageId: string;
  text: string;
  html: string;
  raw: string;
};

export type SmtpCatcher = {
  url: string;
  port: number;
  /** Accepted messages, in order. */
  messages: CaughtMessage[];
  /** Every DATA the server saw, refused or not. */
  attempts: () => number;
  /** Refuse the next `count` messages with this SMTP reply (4xx: try later, 5xx: permanent). */
  rejectNext: (count: number, code?: number, message?: string) => void;
  /** Resolves with the n-th accepted message (1-based) once it arrives. */
  waitFor: (n?: number, timeoutMs?: number) => Promise<CaughtMessage>;
  stop: () => Promise<void>;
};

/**
 * A real SMTP server on 127.0.0.1 for tests. STARTTLS and AUTH are disabled, or nodemailer would try to
 * upgrade or log in (and fail with `Missing credentials for "PLAIN"`).
 */
export async function startSmtpCatcher(): Promise<SmtpCatcher> {
  const messages: CaughtMessage[] = [];
  let attempts = 0;
  let reject: { count: number; code: number; message: string } = { count: 0, code: 451, message: "" };

  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        attempts++;
        if (reject.count > 0) {
          reject.count--;
          const err = Object.assign(new Error(reject.message), { responseCode: reject.code });
          return callback(err);
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        messages.push({
          ...parseMessage(raw),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    attempts: () => attempts,
    rejectNext: (count, code = 451, message = `${code === 451 ? "Try again later" : "Rejected"} (test catcher)`) => {
      reject = { count, code, message };
    },
    waitFor: async (n = 1, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (Date.now() > deadline) throw new Error(`the SMTP catcher got ${messages.length} of ${n} messages`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return messages[n - 1]!;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Part = { headers: Record<string, string>; body: string };

function splitHeaders(raw: string): Part {
  const idx = raw.search(/\r?\n\r?\n/);
  const head = idx === -1 ? raw : raw.slice(0, idx);
  const body = idx === -1 ? "" : raw.slice(idx).replace(/^\r?\n\r?\n/, "");
  const headers: Record<string, string> = {};
  // Folded header lines continue with whitespace.
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decodeBody(part: Part): string {
  const encoding = (part.headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  if (encoding === "base64") return Buffer.from(part.body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const bytes = part.body
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return part.body;
}

/** Leaf parts of a (possibly nested) multipart message. */
function leaves(part: Part): Part[] {
  const type = part.headers["content-type"] ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!type.toLowerCase().startsWith("multipart/") || !boundary) return [part];
  return part.body
    .split(`--${boundary}`)
    .slice(1)
    .filter((chunk) => !chunk.startsWith("--"))
    .flatMap((chunk) => leaves(splitHeaders(chunk.replace(/^\r?\n/, ""))));
}

/** RFC 2047 encoded words (=?UTF-8?Q?...?= / =?UTF-8?B?...?=) in headers such as Subject. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : Buffer.from(
            text
              .replace(/_/g, " ")
              .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            "latin1",
          ).toString("utf8"),
    );
}

function parseMessage(raw: string) {
  const root = splitHeaders(raw);
  const parts = leaves(root);
  const find = (mime: string) =>
    parts.find((p) => (p.headers["content-type"] ?? "text/plain").toLowerCase().startsWith(mime));
  const text = find("text/plain");
  const html = find("text/html");
  return {
    headers: root.headers,
    subject: decodeWords(root.headers.subject ?? ""),
    messageId: root.headers["message-id"] ?? "",
    text: text ? decodeBody(text) : "",
    html: html ? decodeBody(html) : "",
  };
}
