// `npm run backup [-- --out FILE]` (in the image: `node backup.js [--out FILE]`): a pg_dump (custom format) of
// the database Keystead uses: DATABASE_URL's, or with none the embedded PostgreSQL in DATA_DIR (started for the
// dump if Keystead is not running). Default file: DATA_DIR/backups/keystead-<UTC time>.dump.
// Restore: README "Backups and restore" (pg_restore into an empty database, then start Keystead on it).
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { Client } from "pg";
import { EnvError, parseSetting } from "@/server/env";

const { values: args } = parseArgs({ options: { out: { type: "string" } } });

async function main() {
  const dataDir = path.resolve(parseSetting("DATA_DIR"));
  let url = parseSetting("DATABASE_URL");
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    url = await runningEmbedded(dataDir);
    if (!url) {
      const { startEmbeddedPostgres } = await import("@/server/db/embedded");
      url = await startEmbeddedPostgres(dataDir, (stop) => (stopEmbedded = stop));
    }
  }
  try {
    const out = path.resolve(args.out ?? path.join(dataDir, "backups", `keystead-${new Date().toISOString().replace(/[-:]|\.\d+/g, "")}.dump`));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const pgDump = await pgDumpFor(url);
    await dump(pgDump, url, out);
    console.log(`[keystead] backup written to ${out} (${fs.statSync(out).size} bytes)`);
  } finally {
    await stopEmbedded?.();
  }
}

/** The embedded PostgreSQL of a running Keystead (its port is in DATA_DIR/embedded-postgres.json), if it answers. */
async function runningEmbedded(dataDir: string): Promise<string | undefined> {
  let port: number | undefined;
  try {
    port = (JSON.parse(fs.readFileSync(path.join(dataDir, "embedded-postgres.json"), "utf8")) as { port?: number }).port;
  } catch {
    return undefined;
  }
  if (!port || !fs.existsSync(path.join(dataDir, "postgres", "postmaster.pid"))) return undefined;
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/keystead`;
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    return url;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A pg_dump at least as new as the server (pg_dump refuses newer servers): the newest of Debian's
 * /usr/lib/postgresql/<major>/bin, or the one on PATH.
 */
async function pgDumpFor(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const serverMajor = Math.floor(Number((await client.query("show server_version_num")).rows[0].server_version_num) / 10000);
  await client.end();
  const candidates: string[] = [];
  try {
    for (const major of fs.readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a))) {
      const bin = path.join("/usr/lib/postgresql", major, "bin", "pg_dump");
      if (fs.existsSync(bin)) candidates.push(bin);
    }
  } catch {
    /* not Debian's layout */
  }
  candidates.push("pg_dump");
  let found: { bin: string; major: number } | undefined;
  for (const bin of candidates) {
    try {
      const major = Number(/(\d+)/.exec(execFileSync(bin, ["--version"], { encoding: "utf8" }))?.[1]);
      if (!found || major > found.major) found = { bin, major };
    } catch {
      /* not there */
    }
  }
  if (!found) throw new Error("pg_dump not found: install PostgreSQL's client tools (Debian: apt-get install postgresql-client)");
  if (found.major < serverMajor) {
    throw new Error(
      `pg_dump ${found.major} cannot dump PostgreSQL ${serverMajor}: install postgresql-client-${serverMajor} (PostgreSQL's own apt repository has it)`,
    );
  }
  return found.bin;
}

/** pg_dump --format=custom into `out` (a .partial file first, renamed when complete). The password goes in PGPASSWORD, not argv. */
function dump(pgDump: string, url: string, out: string): Promise<void> {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = "";
  const partial = `${out}.partial`;
  return new Promise((resolve, reject) => {
    const child = spawn(pgDump, ["--format=custom", "--no-owner", "--no-privileges", `--file=${partial}`, `--dbname=${u.toString()}`], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) {
        fs.renameSync(partial, out);
        resolve();
      } else {
        fs.rmSync(partial, { force: true });
        reject(new Error(`pg_dump exited with code ${code}`));
      }
    });
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof EnvError ? err.message : `[keystead] backup failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
