import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { Pool, type PoolClient } from "pg";
import { env } from "@/server/env";
import * as schema from "./schema";
import { logger } from "@/server/observability/log";

/** The pool-backed database; `$client` is the pg Pool itself, for the one hot path that talks to it directly. */
export type Db = NodePgDatabase<typeof schema> & { $client: Pool | PoolClient };
/** A transaction handle; domain functions that must run inside one take this. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** Either the pool-backed database or an open transaction. */
export type DbOrTx = Db | Tx;

type Holder = { __keysteadPool?: Pool; __keysteadDb?: Db };
// Next compiles route handlers and instrumentation into separate bundles: keep one pool per process on globalThis.
const holder = globalThis as unknown as Holder;

export function databaseUrl(): string {
  const url = env().DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set and the embedded PostgreSQL has not been started");
  return url;
}

/**
 * PostgreSQL ended the connection itself: it is shutting down or someone ran pg_terminate_backend (57P01), or
 * its socket closed or was reset without a word (pg's "Connection terminated unexpectedly", ECONNRESET). For an idle connection that is
 * nobody's error: the pool replaces it, and a database that stays away shows in the next query's own error.
 * Every Ctrl-C of `npm run dev` does this, as the embedded PostgreSQL gets the signal too.
 */
export function endedByServer(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  // A backend that exits (terminated, or the server stopping) can reset the socket before its 57P01 reaches us.
  return code === "57P01" || code === "ECONNRESET" || err.message === "Connection terminated unexpectedly";
}

/** SQLSTATEs that say the server cannot take work now: shutting down, starting up, out of connections, link lost. */
const UNAVAILABLE_STATES = new Set(["57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08004", "08006"]);
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE"]);

/**
 * The database cannot be reached or cannot take work right now (as opposed to a query that failed on its own):
 * the request should be answered "try again" (503), never with a conclusion drawn from a query that did not run.
 * Follows `cause` (drizzle wraps the driver's error) and AggregateError (a connect to every address of a host).
 */
export function databaseUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && (UNAVAILABLE_STATES.has(code) || UNREACHABLE_CODES.has(code))) return true;
  if (endedByServer(err) || /^(Connection terminated|timeout exceeded when trying to connect)/.test(err.message)) return true;
  if (err instanceof AggregateError && err.errors.some((e) => databaseUnavailable(e, depth + 1))) return true;
  return databaseUnavailable((err as { cause?: unknown }).cause, depth + 1);
}

export function createPool(url: string, max = 10): Pool {
  // A connect that hangs (a database host gone silent) fails after 10 s: the request answers 503 instead of waiting.
  const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  // A client losing its connection must not crash the process; the pool replaces it, and a query it was
  // running rejects on its own.
  const report = (what: string) => (err: Error) => {
    if (!endedByServer(err)) logger().error(`[db] ${what}: ${err.message}`);
  };
  pool.on("error", report("idle client error"));
  pool.on("connect", (client) => client.on("error", report("client error")));
  return pool;
}

export function pool(): Pool {
  holder.__keysteadPool ??= createPool(databaseUrl(), 25);
  return holder.__keysteadPool;
}

export function db(): Db {
  holder.__keysteadDb ??= drizzle({ client: pool(), schema });
  return holder.__keysteadDb;
}

export function dbFromPool(p: Pool): Db {
  return drizzle({ client: p, schema });
}

export async function closeDb() {
  const p = holder.__keysteadPool;
  holder.__keysteadPool = undefined;
  holder.__keysteadDb = undefined;
  await p?.end();
}

export { schema };
