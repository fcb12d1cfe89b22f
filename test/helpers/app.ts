import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createTestDatabase, type TestDb } from "./db";
import { freePort } from "./ports";

export type TestApp = {
  url: string;
  port: number;
  /** The app process (the door, Next and the worker in one), e.g. to read its memory from /proc. */
  pid: number;
  database: TestDb;
  /** What the app logged, one message a line (each JSON line's msg, and its error's message): what a person reads. */
  logs: () => string;
  /** Everything the process wrote, as written (JSON lines), for tests of the log format itself. */
  rawLogs: () => string;
  /** POST JSON and read the JSON answer (whatever the status). */
  post: (route: string, body: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any; headers: Headers }>;
  get: (route: string, headers?: Record<string, string>) => Promise<{ status: number; body: any; headers: Headers }>;
  /** Signals the whole process group (SIGTERM unless told: SIGINT is what Ctrl-C sends) and waits for it to exit. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
  /** How the process ended (after stop()), for tests of shutdown. */
  exit: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
};

export const TEST_AUTH_SECRET = "test-auth-secret-0123456789abcdef";
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
export const TEST_WEBHOOK_SECRET = "whsec_test_secret_0123456789";

/** What `npm start` runs: the door (bundled by the tests' global setup, as by `npm run build`) in front of Next. */
export const APP_SERVER = path.join(process.cwd(), "dist/server.js");

/**
 * Starts the real, built app (`npm start`'s process: the door in front of Next, web + worker in one process) on
 * a free port against a fresh database, and waits for /api/health. Each call is its own server; stop() kills
 * its whole process group.
 */
export async function startApp(
  opts: {
    env?: Record<string, string>;
    database?: TestDb;
    /** "next-start": Next's own server with no door in front, to prove what such a request can and cannot do. */
    server?: "door" | "next-start";
  } = {},
): Promise<TestApp> {
  const database = opts.database ?? (await createTestDatabase("app"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(
    process.execPath,
    opts.server === "next-start"
      ? [path.join(process.cwd(), "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"]
      : [APP_SERVER, "--hostname", "127.0.0.1"],
    {
      cwd: process.cwd(),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NEXT_DIST_DIR: process.env.NEXT_DIST_DIR,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        PORT: String(port),
        DATABASE_URL: database.url,
        APP_URL: url,
        AUTH_SECRET: TEST_AUTH_SECRET,
        ADMIN_API_TOKEN: TEST_ADMIN_TOKEN,
        STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
        RETRY_BASE_MS: "100",
        WORKER_POLL_INTERVAL_MS: "100",
        ...opts.env,
      },
    },
  );
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once("exit", (code, signal) => (exited = { code, signal }));

  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        /* already gone */
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid!, "SIGKILL");
          } catch {
            /* gone */
          }
          resolve();
        }, 5000);
        child.once("exit", () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    if (!opts.database) await database.drop();
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`the app exited before it was healthy:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the app did not become healthy in 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const call = async (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + route, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };

  return {
    url,
    port,
    pid: child.pid!,
    database,
    logs: () => readableLogs(output),
    rawLogs: () => output,
    exit: () => exited,
    post: (route, body, headers) => call("POST", route, body, headers),
    get: (route, headers) => call("GET", route, undefined, headers),
    stop,
  };
}

/** Each JSON log line as its message (plus its error's message); other lines (a plain settings error) as they are. */
export function readableLogs(output: string): string {
  return output
    .split("\n")
    .map((line) => {
      if (!line.startsWith("{")) return line;
      try {
        const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
        return [entry.msg ?? "", entry.err?.message ?? ""].filter(Boolean).join(" ");
      } catch {
        return line;
      }
    })
    .join("\n");
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
