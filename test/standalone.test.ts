import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, readableLogs, TEST_ADMIN_TOKEN, TEST_AUTH_SECRET } from "./helpers/app";
import { freePort } from "./helpers/ports";

/**
 * What the image runs, without Docker (no engine on these machines): scripts/build-standalone.sh (the script the
 * Dockerfile calls) into a folder, then `node server.js` there as a non-root user (PostgreSQL refuses root),
 * with no DATABASE_URL and an empty DATA_DIR: the embedded PostgreSQL, as `docker run -v keystead:/data` gives.
 */

/** A user other than root to run as: `nobody` where it exists, else one made for the test. */
function nonRootUser(): { uid: number; gid: number } {
  const lookup = (name: string) => {
    try {
      return { uid: Number(execFileSync("id", ["-u", name], { encoding: "utf8" })), gid: Number(execFileSync("id", ["-g", name], { encoding: "utf8" })) };
    } catch {
      return undefined;
    }
  };
  if (process.getuid?.() !== 0) return { uid: process.getuid!(), gid: process.getgid!() };
  const found = lookup("nobody") ?? lookup("keystead-test");
  if (found) return found;
  execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "keystead-test"]);
  return lookup("keystead-test")!;
}

type Run = { child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> };

describe("the image's build, run as it runs in the container", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "keystead-standalone-"));
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "keystead-data-"));
  const user = nonRootUser();
  const runs: Run[] = [];

  beforeAll(() => {
    // The build folder is readable by the app's user; DATA_DIR is empty and the user's own, as a fresh volume.
    fs.chmodSync(out, 0o755);
    fs.chownSync(data, user.uid, user.gid);
    execFileSync("bash", ["scripts/build-standalone.sh", out], {
      // Beside the checkout's own .next, which the other tests run on.
      env: { ...process.env, NEXT_DIST_DIR: ".next-standalone-test" },
      stdio: ["ignore", "ignore", "inherit"],
      timeout: 900_000,
    });
  }, 900_000);

  afterAll(() => {
    for (const run of runs) {
      try {
        process.kill(-run.child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(data, { recursive: true, force: true });
    fs.rmSync(".next-standalone-test", { recursive: true, force: true });
  });

  async function start(): Promise<Run> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // setpriv: the uid and gid only, no supplementary groups: what `USER keystead` gives in the image.
    const child = spawn(
      "setpriv",
      [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", process.execPath, "server.js"],
      {
        cwd: out,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          PATH: process.env.PATH,
          HOME: data,
          NODE_ENV: "production",
          PORT: String(port),
          DATA_DIR: data,
          APP_URL: url,
          AUTH_SECRET: TEST_AUTH_SECRET,
          ADMIN_API_TOKEN: TEST_ADMIN_TOKEN,
        },
      },
    );
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const run = { child, url, output: () => output, exited };
    runs.push(run);
    let gone = false;
    void exited.then(() => (gone = true));
    await eventually(
      async () => {
        if (gone) throw new Error(`the standalone server exited:\n${output}`);
        return fetch(`${url}/api/health`).then((r) => r.ok, () => false);
      },
      120_000,
      "the standalone server to be healthy",
    );
    return run;
  }

  /** SIGTERM to the node process alone, as `docker stop` sends it to PID 1. */
  async function stop(run: Run) {
    run.child.kill("SIGTERM");
    const code = await Promise.race([run.exited, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 30_000))]);
    expect(code, run.output()).toBe(0);
  }

  const json = async (run: Run, route: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(run.url + route, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("runs as a non-root user on the embedded PostgreSQL in an empty DATA_DIR, keeps its data across a restart, and stops it cleanly on SIGTERM", async () => {
    expect(user.uid).not.toBe(0);
    expect(fs.existsSync(path.join(out, "server.js"))).toBe(true);

    const first = await start();
    expect((await json(first, "/api/health")).body).toEqual({ ok: true, database: "ok", worker: "ok" });
    expect(readableLogs(first.output())).toContain(`using the embedded PostgreSQL in ${path.join(data, "postgres")}`);
    // The native signer was copied beside it and loads (not the slower node:crypto fallback).
    expect(readableLogs(first.output())).toContain("Ed25519 by libsodium");
    // Its data is where DATA_DIR says, owned by the app's user.
    expect(fs.statSync(path.join(data, "postgres", "PG_VERSION")).uid).toBe(user.uid);

    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    expect((await json(first, "/api/v1/admin/products", { slug: "boxed", name: "Boxed" }, admin)).status).toBe(201);
    const plan = await json(first, "/api/v1/admin/plans", { product: "boxed", slug: "boxed-pro", name: "Pro", seats: 1, durationDays: null, entitlements: [], stripePriceIds: [] }, admin);
    expect(plan.status, JSON.stringify(plan.body)).toBe(201);
    const issued = await json(first, "/api/v1/admin/licenses", { plan: "boxed-pro", email: "box@example.com" }, admin);
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    const key = issued.body.key as string;
    expect((await json(first, "/api/v1/licenses/validate", { key })).body).toMatchObject({ valid: true, code: "VALID" });
    expect((await json(first, "/api/ready")).status).toBe(200);

    const pidFile = path.join(data, "postgres", "postmaster.pid");
    expect(fs.existsSync(pidFile)).toBe(true);
    const postmaster = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
    await stop(first);
    // A clean shutdown removes postmaster.pid (a killed server leaves it), and the postmaster is gone.
    expect(fs.existsSync(pidFile)).toBe(false);
    expect(() => process.kill(postmaster, 0)).toThrow();
    const logs = readableLogs(first.output());
    expect(logs).toContain("embedded PostgreSQL stopped");
    expect(logs.split("\n").filter((l) => /error|terminating connection|still busy/i.test(l))).toEqual([]);

    // The same DATA_DIR again: the license is still there.
    const second = await start();
    expect(readableLogs(second.output())).not.toContain("creating embedded PostgreSQL");
    expect((await json(second, "/api/v1/licenses/validate", { key })).body).toMatchObject({ valid: true, code: "VALID" });

    // `node backup.js` (the image's `npm run backup`), as the app's user, dumps the running embedded PostgreSQL
    // with this machine's pg_dump (Debian's client is the embedded server's major version), and the dump restores.
    const dump = path.join(data, "backups", "test.dump");
    execFileSync("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", process.execPath, "backup.js", "--out", dump], {
      cwd: out,
      env: { PATH: process.env.PATH, HOME: data, NODE_ENV: "production", DATA_DIR: data, AUTH_SECRET: TEST_AUTH_SECRET },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    expect(fs.statSync(dump).size).toBeGreaterThan(0);
    const listing = execFileSync("pg_restore", ["--list", dump], { encoding: "utf8" });
    expect(listing).toMatch(/TABLE DATA public licenses/);
    await stop(second);
    expect(fs.existsSync(pidFile)).toBe(false);
  }, 300_000);
});
