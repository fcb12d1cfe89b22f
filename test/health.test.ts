import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "./helpers/app";

describe("GET /api/health", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("reports the database and the in-process worker", async () => {
    const res = await app.get("/api/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, database: "ok", worker: "ok" });
  });
});
