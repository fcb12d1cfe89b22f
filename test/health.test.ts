import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { createTestDatabase, type TestDb } from "./helpers/db";

describe("GET /api/health", () => {
  let app: TestApp;
  let database: TestDb;
  beforeAll(async () => {
    database = await createTestDatabase("health");
    app = await startApp({ database });
  });
  afterAll(async () => {
    await app?.stop();
    await database?.drop();
  });

  it("reports the database and the in-process worker", async () => {
    const res = await app.get("/api/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, database: "ok", worker: "ok" });
  });

  it("says once at start, and correctly, that checkouts wait for Stripe keys", async () => {
    const said = app.logs().split("\n").filter((line) => line.includes("STRIPE_SECRET_KEY"));
    expect(said).toEqual(["[keystead] Stripe keys not set: checkouts cannot be processed until STRIPE_SECRET_KEY is set"]);
  });

  it("answers 503 naming the database when it is gone, with the reason in the log and not in the answer", async () => {
    const name = new URL(database.url).pathname.slice(1);
    const admin = new Client({ connectionString: inject("pgBaseUrl") });
    await admin.connect();
    try {
      // A real outage: every connection cut, and the database no longer there to reconnect to.
      await admin.query(`drop database "${name}" with (force)`);
    } finally {
      await admin.end();
    }
    const res = await app.get("/api/health");
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ ok: false, database: "unavailable" });
    expect(Object.keys(res.body).sort()).toEqual(["database", "ok", "worker"]);
    expect(JSON.stringify(res.body)).not.toContain(name);
    await eventually(async () => app.logs().includes(`health: database unavailable: database "${name}" does not exist`), 10_000, "the logged cause");
  });
});
