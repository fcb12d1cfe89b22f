import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import pino, { type Logger } from "pino";
import { parseSetting } from "@/server/env";

/**
 * The process's one logger: JSON lines on stdout (pino), at LOG_LEVEL, each line carrying the request id of the
 * request it was written for. The door (its own esbuild bundle) and Next's bundles each have their copy of this
 * module, so the logger and the request context live on globalThis: one of each per process.
 *
 * What must never reach a line: license keys, tokens, sign-in links, secrets, Authorization headers. Messages
 * name things by id; `redact` below is the net under that rule for structured fields.
 */
type RequestContext = { requestId: string };
type Holder = { __keysteadLogger?: Logger; __keysteadRequestContext?: AsyncLocalStorage<RequestContext> };
const holder = globalThis as unknown as Holder;

function requestContext(): AsyncLocalStorage<RequestContext> {
  holder.__keysteadRequestContext ??= new AsyncLocalStorage<RequestContext>();
  return holder.__keysteadRequestContext;
}

/** Field names whose values are censored wherever they appear (one level deep, and in request headers). */
const REDACTED = [
  "key",
  "licenseKey",
  "token",
  "secret",
  "password",
  "url",
  "link",
  "authorization",
  "cookie",
  "*.key",
  "*.licenseKey",
  "*.token",
  "*.secret",
  "*.password",
  "*.url",
  "*.link",
  "*.authorization",
  "*.cookie",
  "headers.authorization",
  "headers.cookie",
  "req.headers.authorization",
  "req.headers.cookie",
];

function levelSetting(): pino.LevelWithSilent {
  try {
    return parseSetting("LOG_LEVEL");
  } catch {
    // A bad LOG_LEVEL is reported by env() at start-up; until then, the default.
    return "info";
  }
}

export function logger(): Logger {
  holder.__keysteadLogger ??= pino(
    {
      level: levelSetting(),
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED, censor: "[redacted]" },
      mixin: () => {
        const ctx = requestContext().getStore();
        return ctx ? { requestId: ctx.requestId } : {};
      },
    },
    // process.stdout is synchronous on Linux (files, pipes and terminals alike): a line written just before
    // process.exit is not lost, lines keep their order, and an in-process test can read them off stdout.
    developmentMode() ? readableLines() : process.stdout,
  );
  return holder.__keysteadLogger;
}

function developmentMode(): boolean {
  try {
    return parseSetting("NODE_ENV") === "development";
  } catch {
    return false;
  }
}

/**
 * `npm run dev` reads its log in a terminal: each line as `level message` (and the request id), not JSON. Anywhere
 * else (production, the tests) JSON lines.
 */
function readableLines(): pino.DestinationStream {
  return {
    write(line: string) {
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string; requestId?: string; err?: { stack?: string; message?: string } };
        const level = entry.level === "info" ? "" : `${entry.level?.toUpperCase()} `;
        const err = entry.err ? `\n${entry.err.stack ?? entry.err.message}` : "";
        process.stdout.write(`${level}${entry.msg ?? ""}${entry.requestId ? ` (${entry.requestId})` : ""}${err}\n`);
      } catch {
        process.stdout.write(line);
      }
    },
  };
}

/** A sane incoming X-Request-Id (a proxy's or a client's) is kept; anything else gets a fresh one. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestIdFrom(incoming: string | string[] | undefined): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value && SANE_REQUEST_ID.test(value) ? value : randomUUID();
}

/** Runs `fn` with `requestId` on every line logged inside it (across awaits). */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return requestContext().run({ requestId }, fn);
}

/** The request id of the request being served, if any. */
export function currentRequestId(): string | undefined {
  return requestContext().getStore()?.requestId;
}

/** An error as a log field: its message and stack, and a pg error's code, never its parameters. */
export function errorField(err: unknown): { message: string; code?: string; stack?: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { message: err.message, ...(typeof code === "string" ? { code } : {}), stack: err.stack };
}
