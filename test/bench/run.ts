// `npm run bench`: the figures issues 2 and 13 ask for, each with its baselines measured in the same run.
//   1. Offline-token signing rate: our signer vs node:crypto's raw Ed25519 (and @noble/ed25519 for reference).
//   2. POST /api/v1/licenses/validate and /activate (a machine activating again: a last-seen write and a
//      token) under 32 connections against `npm start`'s process (the door in front of Next, web + worker),
//      rate limits off, at 100,000 and 1,000,000 licenses, vs (a) a trivial POST route in the same app, which
//      goes through Next (the framework's ceiling) and (b) a bare node:http server doing the same indexed
//      lookup (the machine's ceiling); activate also vs (c), activate's own statements over bare pg. Also
//      validate from a single client in a loop, taking turns request by request with (b)'s.
//   3. Resident memory of the app (web + worker, one process) idle and under that load.
// Options: BENCH_SIZES=100000,1000000  BENCH_SECONDS=10  DATABASE_URL=<server to create keystead_bench_<size> on>
//          BENCH_PIN=1 (servers on core 0, load generator on core 1)  BENCH_SKIP_BUILD=1 (measure the current .next)
import { spawn, execSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import autocannon from "autocannon";
import { Client } from "pg";
import { BENCH_FINGERPRINT, benchDatabase, benchKey, seedActivations, seedLicenses } from "./seed";
import { benchSigning } from "./signing";

const root = process.cwd();
const sizes = (process.env.BENCH_SIZES ?? "100000,1000000").split(",").map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const AUTH_SECRET = "bench-auth-secret-0123456789abcdef";
process.env.AUTH_SECRET = AUTH_SECRET;

type Load = { rps: number; p50: number; p99: number; non2xx: number; errors: number; total: number };

/** Licenses 0..ACTIVATED-1 have BENCH_FINGERPRINT activated (seedActivations): what the activate rounds call. */
const ACTIVATED = 10_000;
const validateBody = (size: number) => () => ({ key: benchKey(crypto.randomInt(size)) });
const activateBody = () => ({ key: benchKey(crypto.randomInt(ACTIVATED)), fingerprint: BENCH_FINGERPRINT });

async function waitFor(url: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer in time`);
}

function pidOnPort(port: number): number {
  const out = execSync(`ss -ltnpH 'sport = :${port}'`).toString();
  const m = out.match(/pid=(\d+)/);
  if (!m) throw new Error(`nothing listens on ${port}`);
  return Number(m[1]);
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
}

function startProcess(cmd: string, args: string[], env: Record<string, string>): ChildProcess {
  // BENCH_PIN=1: servers on core 0, this process (the load generator) on core 1, PostgreSQL wherever the
  // scheduler puts it: separates "the server is slow" from "the server and the load fight for a core".
  if (process.env.BENCH_PIN === "1") {
    process.env.__benchPinned ??= (execSync(`taskset -cp 1 ${process.pid}`), "1");
    [cmd, args] = ["taskset", ["-c", "0", cmd, ...args]];
  }
  return spawn(cmd, args, { cwd: root, detached: true, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...env } });
}

function stopProcess(child: ChildProcess) {
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    /* gone */
  }
}

async function load(
  url: string,
  body: () => object,
  durationS: number,
  opts: { sampleRss?: () => void; connections?: number } = {},
): Promise<Load> {
  const timer = opts.sampleRss ? setInterval(opts.sampleRss, 500) : undefined;
  const result = await autocannon({
    url,
    connections: opts.connections ?? 32,
    duration: durationS,
    method: "POST",
    headers: { "content-type": "application/json" },
    requests: [{ setupRequest: (req: any) => ({ ...req, body: JSON.stringify(body()) }) }],
  });
  if (timer) clearInterval(timer);
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url} answered ${result.non2xx} non-2xx responses and ${result.errors} errors: the figures would be meaningless`);
  }
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

/**
 * One client calling in a loop over one keep-alive connection per server, each request sent when the previous
 * answer arrived: the latency a single copy of the software sees, in microseconds (autocannon rounds to whole
 * ms). The two servers take turns request by request (one to `a`, one to `b`, ...), so both are measured over
 * the same seconds: on a shared machine the noise of a whole round (a neighbour's burst, a slow minute) moved
 * one side's p50 by 30% and more against the other's when each had rounds of its own.
 */
type Single = { p50: number; p99: number; rps: number };
async function singleClients(urlA: string, urlB: string, body: () => object, durationS: number): Promise<[Single, Single]> {
  const agents = [new http.Agent({ keepAlive: true, maxSockets: 1 }), new http.Agent({ keepAlive: true, maxSockets: 1 })];
  const latencies: [number[], number[]] = [[], []];
  const one = (url: string, agent: http.Agent) => {
    const payload = JSON.stringify(body());
    const started = process.hrtime.bigint();
    return new Promise<number>((resolve, reject) => {
      const req = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } }, (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}: the figures would be meaningless`));
          else resolve(Number(process.hrtime.bigint() - started) / 1000);
        });
      });
      req.on("error", reject);
      req.end(payload);
    });
  };
  const end = Date.now() + durationS * 1000;
  while (Date.now() < end) {
    for (const k of [0, 1] as const) latencies[k].push(await one(k === 0 ? urlA : urlB, agents[k]!));
  }
  for (const agent of agents) agent.destroy();
  return [0, 1].map((k) => {
    const sorted = [...latencies[k]!].sort((x, y) => x - y);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    // Throughput of that side alone: its requests over the time they took (the sum of their latencies).
    const busyUs = sorted.reduce((n, l) => n + l, 0);
    return { p50: at(0.5), p99: at(0.99), rps: sorted.length / (busyUs / 1e6) };
  }) as [Single, Single];
}
/** Single-client rounds as one figure: every round's samples weigh alike, so the mean p50 (and worst p99). */
const combineSingle = (ls: Single[]): Single => ({
  p50: ls.reduce((n, l) => n + l.p50, 0) / ls.length,
  p99: Math.max(...ls.map((l) => l.p99)),
  rps: ls.reduce((n, l) => n + l.rps, 0) / ls.length,
});
const fmtSingle = (l: Single) =>
  `${l.rps.toFixed(0).padStart(6)} req/s  p50 ${l.p50.toFixed(0).padStart(5)} us  p99 ${l.p99.toFixed(0).padStart(5)} us`;

/** Transactions committed on the database at `url` so far (PostgreSQL publishes them within a second). */
async function commits(url: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 1500));
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query("select xact_commit::float8 as n from pg_stat_database where datname = current_database()");
    return rows[0].n;
  } finally {
    await c.end();
  }
}

/** Rounds of one kind as one figure: mean throughput, and the worst p50/p99 seen (never flattering). */
const combine = (ls: Load[]): Load => ({
  rps: ls.reduce((n, l) => n + l.rps, 0) / ls.length,
  p50: Math.max(...ls.map((l) => l.p50)),
  p99: Math.max(...ls.map((l) => l.p99)),
  non2xx: ls.reduce((n, l) => n + l.non2xx, 0),
  errors: ls.reduce((n, l) => n + l.errors, 0),
  total: ls.reduce((n, l) => n + l.total, 0),
});

const fmt = (l: Load) => `${l.rps.toFixed(0).padStart(6)} req/s  p50 ${String(l.p50).padStart(4)} ms  p99 ${String(l.p99).padStart(4)} ms${l.non2xx || l.errors ? `  (non-2xx ${l.non2xx}, errors ${l.errors})` : ""}`;
/** One ratio against (b) with its goal, e.g. `48% (goal >= 50%)`. */
const pct = (x: number, of: number, goal: number) => `${((x / of) * 100).toFixed(0)}% (goal >= ${goal}%)`;
const times = (x: number, of: number, goal: number) => `${(x / of).toFixed(2)}x (goal <= ${goal}x)`;

async function main() {
  // Always measure the code as it is now: a stale .next would benchmark yesterday's routes.
  if (process.env.BENCH_SKIP_BUILD !== "1") {
    console.log("building the app (next build)...");
    execSync("npx next build", { stdio: "ignore", env: { ...process.env, NEXT_DIST_DIR: "" } });
  }
  // The door is bundled from the current sources either way (seconds), as the tests' global setup does.
  execSync("node scripts/build-server.mjs", { stdio: "inherit" });

  console.log("\n== Offline-token signing (one core, same run) ==");
  const signing = await benchSigning();
  for (const line of signing.lines) console.log(line);

  const appPort = 3300;
  const barePort = 3301;

  for (const size of sizes) {
    console.log(`\n== validate and activate at ${size.toLocaleString("en")} licenses (32 connections, ${seconds} s each, in alternating rounds) ==`);
    // One database per size, kept between runs (seeding a million takes ~2 minutes); reruns only top up.
    const url = await benchDatabase(`keystead_bench_${size}`);
    await seedLicenses(url, size);
    await seedActivations(url, Math.min(ACTIVATED, size));

    // What `npm start` runs: the door, which answers the license routes itself, in front of Next.
    const app = startProcess(process.execPath, [path.join(root, "dist/server.js"), "--hostname", "127.0.0.1"], {
      PORT: String(appPort),
      NODE_ENV: "production",
      DATABASE_URL: url,
      AUTH_SECRET,
      RATE_LIMIT_IP: "0",
      RATE_LIMIT_KEY: "0",
      BENCH_ROUTES: "1",
      NEXT_DIST_DIR: "",
    });
    // (b) runs beside the app (idle while the app is measured, and the other way round), so its rounds can
    // alternate with the app's and drift on a shared machine lands on both.
    const bare = startProcess(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "test/bench/bare-server.ts"], {
      DATABASE_URL: url,
      PORT: String(barePort),
      AUTH_SECRET,
    });
    let a: Load, b: Load, c: Load, v: Load, act: Load, idle: number, queriesPerRequest: number;
    let v1: Single, b1: Single;
    // Peak RSS while each route was under load: which side (Next or the door) the memory goes to.
    // RSS seldom shrinks, so the door's routes are also loaded alone first, before Next has taken any load.
    const peaks = { "door alone": 0, "(a)": 0, validate: 0, activate: 0 };
    try {
      await waitFor(`http://127.0.0.1:${appPort}/api/health`);
      const bareUrl = `http://127.0.0.1:${barePort}/`;
      await waitFor(bareUrl);
      const pid = pidOnPort(appPort);
      await new Promise((r) => setTimeout(r, 3000));
      idle = rssMb(pid);
      const sample = (route: keyof typeof peaks) => () => (peaks[route] = Math.max(peaks[route], rssMb(pid)));
      const echoUrl = `http://127.0.0.1:${appPort}/api/bench/echo`;
      const validateUrl = `http://127.0.0.1:${appPort}/api/v1/licenses/validate`;
      const activateUrl = `http://127.0.0.1:${appPort}/api/v1/licenses/activate`;
      // Warm every route (JIT, prepared statements, page caches) before measuring.
      await load(validateUrl, validateBody(size), 3, { sampleRss: sample("door alone") });
      await load(activateUrl, activateBody, 3, { sampleRss: sample("door alone") });
      await load(echoUrl, validateBody(size), 3);
      await load(bareUrl, validateBody(size), 3);
      await load(`${bareUrl}activate`, activateBody, 3);
      // Alternate in short rounds, so drift on a shared machine (a neighbour's burst, a slow minute) lands on
      // every side instead of on whichever ran last.
      const rounds = 3;
      const as: Load[] = [];
      const bs: Load[] = [];
      const vs: Load[] = [];
      const acts: Load[] = [];
      const cs: Load[] = [];
      const v1s: Single[] = [];
      const b1s: Single[] = [];
      let committed = 0;
      for (let r = 0; r < rounds; r++) {
        as.push(await load(echoUrl, validateBody(size), seconds / rounds, { sampleRss: sample("(a)") }));
        bs.push(await load(bareUrl, validateBody(size), seconds / rounds));
        // Every transaction PostgreSQL committed on this database during validate's rounds (its lookups, and
        // the worker's few), per request: how far concurrent lookups were coalesced into shared queries.
        const before = await commits(url);
        vs.push(await load(validateUrl, validateBody(size), seconds / rounds, { sampleRss: sample("validate") }));
        committed += (await commits(url)) - before;
        acts.push(await load(activateUrl, activateBody, seconds / rounds, { sampleRss: sample("activate") }));
        cs.push(await load(`${bareUrl}activate`, activateBody, seconds / rounds));
        const [b1r, v1r] = await singleClients(bareUrl, validateUrl, validateBody(size), seconds / rounds);
        b1s.push(b1r);
        v1s.push(v1r);
      }
      [a, b, c, v, act] = [combine(as), combine(bs), combine(cs), combine(vs), combine(acts)];
      [v1, b1] = [combineSingle(v1s), combineSingle(b1s)];
      queriesPerRequest = committed / v.total;
    } finally {
      stopProcess(app);
      stopProcess(bare);
    }

    console.log(`(a) trivial Next POST route : ${fmt(a)}`);
    console.log(`(b) bare node:http + pg     : ${fmt(b)}`);
    console.log(`    validate (door)         : ${fmt(v)}`);
    console.log(`    activate (door, again)  : ${fmt(act)}`);
    console.log(`    validate / (b): throughput ${pct(v.rps, b.rps, 50)}, p99 ${times(v.p99, b.p99, 2)}`);
    console.log(`    activate / (b): throughput ${pct(act.rps, b.rps, 30)}`);
    console.log(`(c) bare activate (same SQL): ${fmt(c)}`);
    console.log(`    activate / (c): throughput ${((act.rps / c.rps) * 100).toFixed(0)}%, p99 ${(act.p99 / c.p99).toFixed(2)}x`);
    console.log(`    validate / (a): throughput ${((v.rps / a.rps) * 100).toFixed(0)}%, p99 ${(v.p99 / a.p99).toFixed(2)}x`);
    console.log(`(b) single client in a loop : ${fmtSingle(b1)}`);
    console.log(`    validate, single client : ${fmtSingle(v1)}`);
    console.log(`    single-client p50 / (b)'s: ${times(v1.p50, b1.p50, 1.5)}`);
    console.log(`    validate: ${queriesPerRequest.toFixed(3)} PostgreSQL transactions per request (concurrent lookups share a query)`);
    const peak = Math.max(...Object.values(peaks));
    const each = Object.entries(peaks).map(([route, mb]) => `${route} ${mb.toFixed(0)}`).join(", ");
    console.log(`    memory (RSS of npm start's process, web + worker): idle ${idle.toFixed(0)} MB, under load peak ${peak.toFixed(0)} MB (goal < 300 MB; ${each})`);
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
