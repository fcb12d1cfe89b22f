import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "@/app/api/health/route";
import { closeDb, pool } from "@/server/db/client";
import { startWorker } from "@/server/jobs/worker";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";

// In this test process rather than a server: a worker that cannot start after start-up migrated the database
// needs the database to change between the two, which only a rolling deploy does in real life.
describe("GET /api/health when the worker could not start", () => {
  let database: TestDb;
  beforeAll(async () => {
    database = await createTestDatabase("healthworker");
    await useProcessDatabase(database.url, { WORKER: "on" });
  });
  afterAll(async () => {
    await closeDb();
    await database?.drop();
  });

  it("answers 503 with worker failed, not ok", async () => {
    // A newer release (a rolling deploy) moved the job schema past what this graphile-worker understands.
    await database.db.execute(sql`insert into graphile_worker.migrations (id, breaking) values (999999, true)`);
    await expect(startWorker(pool())).rejects.toThrow(/schema revision 999999/);
    // graphile-worker asks the process to exit non-zero after this; the server keeps serving and reports it.
    process.exitCode = undefined;

    const res = await GET();
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, database: "ok", worker: "failed" });
  });
});
