import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "./helpers/app";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { makeLicense, makePlan } from "./helpers/factories";
import { runToExit, tsxCli } from "./helpers/processes";

/**
 * `npm run backup` is a pg_dump (custom format) taken while the app works; README's restore (pg_restore into an
 * empty database, then start Keystead on it) gives back every license, and they validate.
 */
describe("npm run backup, and the README's restore", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keystead-backup-"));
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a dump taken under load restores into a fresh database where every license validates", async () => {
    const source: TestApp = await startApp({ env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
    cleanup.push(() => source.stop());
    const plan = await makePlan(source.database.db, { seats: 50 });
    const keys: string[] = [];
    for (let i = 0; i < 40; i++) keys.push((await makeLicense(source.database.db, { planId: plan.id })).key);

    // Validations and activations keep coming while the dump runs.
    let stopLoad = false;
    let answered = 0;
    const failures: string[] = [];
    const load = (async () => {
      let i = 0;
      while (!stopLoad) {
        const key = keys[i % keys.length]!;
        const [validated, activated] = await Promise.all([
          source.post("/api/v1/licenses/validate", { key }),
          source.post("/api/v1/licenses/activate", { key, fingerprint: `machine-${i}` }),
        ]);
        if (validated.body?.code !== "VALID") failures.push(`validate: ${JSON.stringify(validated.body)}`);
        if (activated.status !== 201) failures.push(`activate: ${activated.status} ${JSON.stringify(activated.body)}`);
        answered += 2;
        i++;
      }
    })();
    while (answered < 20) await new Promise((r) => setTimeout(r, 20));
    const before = answered;

    const file = path.join(dir, "keystead.dump");
    const backup = await runToExit([tsxCli, "scripts/backup.ts", "--out", file], { DATABASE_URL: source.database.url }, 120_000);
    const during = answered - before;
    stopLoad = true;
    await load;
    expect(backup.code, backup.output).toBe(0);
    expect(backup.output).toContain(`backup written to ${file}`);
    expect(failures).toEqual([]);
    expect(during).toBeGreaterThan(0);
    // pg_dump's custom format: the archive's magic bytes, and pg_restore can read its table of contents.
    expect(fs.readFileSync(file).subarray(0, 5).toString()).toBe("PGDMP");
    const toc = execFileSync("pg_restore", ["--list", file], { encoding: "utf8" });
    expect(toc).toMatch(/TABLE DATA public licenses/);
    // No password in what the dump was given on its command line (PGPASSWORD) nor in the output.
    expect(backup.output).not.toContain("postgres:postgres@");

    // README: restore into an empty database...
    const restored: TestDb = await createTestDatabase("restore", { migrate: false });
    cleanup.push(() => restored.drop());
    execFileSync("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", `--dbname=${restored.url}`, file], { stdio: "pipe" });
    // ...and start Keystead on it.
    const app = await startApp({ database: restored, env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
    cleanup.push(() => app.stop());
    expect((await app.get("/api/ready")).body).toMatchObject({ ok: true, database: "ok", migrations: "ok" });

    const count = await restored.db.execute(sql`select count(*)::int as n from licenses`);
    expect(count.rows[0]!.n).toBe(keys.length);
    for (const key of keys) {
      const res = await app.post("/api/v1/licenses/validate", { key });
      expect(res.body, key).toMatchObject({ valid: true, code: "VALID" });
    }
    // The activations made before the dump began are in it, and the restored signing key signs new ones.
    const activations = await restored.db.execute(sql`select count(*)::int as n from activations`);
    expect(activations.rows[0]!.n).toBeGreaterThanOrEqual(before / 2);
    const fresh = await app.post("/api/v1/licenses/activate", { key: keys[0]!, fingerprint: "after-restore" });
    expect(fresh.status).toBe(201);
    expect(typeof fresh.body.token).toBe("string");
  }, 240_000);
});
