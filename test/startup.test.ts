import { spawn } from "node:child_process";
import { sql } from "drizzle-orm";
import { Client } from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { signingKeys } from "@/server/db/schema";
import { APP_SERVER, eventually, startApp, TEST_AUTH_SECRET } from "./helpers/app";
import { createTestDatabase, migrationCount, type TestDb } from "./helpers/db";
import { freePort } from "./helpers/ports";
import { runToExit, WORKER_ENTRY } from "./helpers/processes";


describe("start-up", () => {
  const dbs: TestDb[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });

  it("stops with one line naming a bad setting", async () => {
    const port = await freePort();
    const { code, output } = await runToExit([APP_SERVER], {
      PORT: String(port),
      NODE_ENV: "production",
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
      AUTH_SECRET: TEST_AUTH_SECRET,
      RATE_LIMIT_IP: "lots",
    });
    expect(code).not.toBe(0);
    const lines = output.split("\n").filter((l) => l.includes("RATE_LIMIT_IP"));
    expect(lines).toEqual([expect.stringMatching(/^Invalid setting RATE_LIMIT_IP: must be a whole number/)]);
  });

  it("refuses to start in production without AUTH_SECRET", async () => {
    const port = await freePort();
    const { code, output } = await runToExit([APP_SERVER], {
      PORT: String(port),
      NODE_ENV: "production",
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
    });
    expect(code).not.toBe(0);
    expect(output).toMatch(/^Invalid setting AUTH_SECRET: is required in production$/m);
  });

  it("WORKER=off serves web only, and two processes starting at once on an empty database migrate once and share one signing key", async () => {
    // Not migrated by the test: both processes find it empty and race to migrate it.
    const database = await createTestDatabase("boot", { migrate: false });
    dbs.push(database);
    const [web, worker] = await Promise.all([
      startApp({ database, env: { WORKER: "off" } }),
      startApp({ database }),
    ]);
    try {
      expect((await web.get("/api/health")).body).toEqual({ ok: true, database: "ok", worker: "off" });
      expect((await worker.get("/api/health")).body).toEqual({ ok: true, database: "ok", worker: "ok" });
      const keys = await database.db.select().from(signingKeys);
      expect(keys).toHaveLength(1);
      // Each migration recorded once: two migrators not serialised would record them twice, or fail half-way.
      const migrations = await database.db.execute(sql`select hash, count(*)::int as n from drizzle.__drizzle_migrations group by hash`);
      expect(migrations.rows).toHaveLength(migrationCount());
      expect(migrations.rows.every((r) => r.n === 1)).toBe(true);
    } finally {
      await web.stop();
      await worker.stop();
    }
  });

  it("`npm run worker` runs the worker alone against the same database", async () => {
    const database = await createTestDatabase("worker");
    dbs.push(database);
    const child = spawn(process.execPath, [WORKER_ENTRY], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: database.url, AUTH_SECRET: TEST_AUTH_SECRET, NODE_ENV: "production" } as unknown as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    try {
      const deadline = Date.now() + 30_000;
      while (!output.includes("Worker connected") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(output).toContain("Worker connected");
      const keys = await database.db.select().from(signingKeys);
      expect(keys).toHaveLength(1);
    } finally {
      process.kill(-child.pid!, "SIGKILL");
    }
  });

  it("Ctrl-C while PostgreSQL shuts down (the embedded one gets the same signal) prints no errors", async () => {
    const database = await createTestDatabase("sigint");
    dbs.push(database);
    // The default poll interval, as `npm run dev` runs: the tests' 100 ms has one of the eight workers fetching a job
    // every 12 ms, and a fetch in flight at the signal fails on the refused connection (graphile-worker prints its
    // stack itself); at 2 s that takes a fetch to coincide with the Ctrl-C, as it would for an operator.
    const app = await startApp({ database, env: { WORKER_POLL_INTERVAL_MS: "2000" } });
    await eventually(async () => app.logs().includes("Worker connected"), 20_000, "the worker to connect");
    expect((await app.get("/api/health")).status).toBe(200);
    const name = new URL(database.url).pathname.slice(1);
    const admin = new Client({ connectionString: inject("pgBaseUrl") });
    await admin.connect();
    try {
      // What a fast shutdown does to this database: no new connections, and every open one ended (57P01).
      await admin.query(`alter database "${name}" allow_connections false`);
      await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()", [name]);
      await app.stop("SIGINT");
    } finally {
      await admin.query(`alter database "${name}" allow_connections true`);
      await admin.end();
    }
    expect(app.logs()).toContain("graceful shutdown");
    expect(app.logs().split("\n").filter((line) => /error|terminating connection/i.test(line))).toEqual([]);
  });
});
