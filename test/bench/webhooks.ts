// `npm run bench:webhooks` (after `npm run build`): outgoing webhook throughput and lag. It starts the built app
// (`npm start`'s process: the door, Next and the worker in one, default WORKER_POLL_INTERVAL_MS) on a fresh
// keystead_webhook_bench database with WEBHOOK_ALLOW_PRIVATE=1, makes one endpoint through the management API
// pointing at a local HTTP receiver (test/helpers/webhook-receiver.ts, answering 200 at once), then emits
// WEBHOOK_BENCH_EVENTS events (default 10,000) through the real emitWebhookEvent, 100 per transaction as fast
// as the database takes them. Every event is signed, POSTed, verified here with the standardwebhooks library,
// and logged by the app's worker. Printed: deliveries per second (first emit to last receipt) and the lag of
// each event (its emit to its receipt) at p50/p99/max.
//
// Options: WEBHOOK_BENCH_EVENTS=10000  WEBHOOK_BENCH_BATCH=100 (events per emitting transaction)
//          DATABASE_URL=<server to create the database on>  NEXT_DIST_DIR=<build dir, default .next>
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { Client } from "pg";
import { Webhook } from "standardwebhooks";
import { createPool, dbFromPool } from "../../server/db/client";
import { emitWebhookEvent } from "../../server/domain/webhooks/emit";
import { freePort } from "../helpers/ports";
import { startWebhookReceiver } from "../helpers/webhook-receiver";

const root = process.cwd();
const baseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const EVENTS = Number(process.env.WEBHOOK_BENCH_EVENTS ?? 10_000);
const BATCH = Number(process.env.WEBHOOK_BENCH_BATCH ?? 100);
const AUTH_SECRET = "bench-auth-secret-0123456789abcdef";
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const DB_NAME = "keystead_webhook_bench";

function percentile(sorted: number[], q: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main() {
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`drop database if exists "${DB_NAME}" with (force)`);
  await admin.query(`create database "${DB_NAME}"`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${DB_NAME}`;
  const dbUrl = u.toString();

  const receiver = await startWebhookReceiver();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = spawn(process.execPath, [path.join(root, "dist/server.js"), "--hostname", "127.0.0.1"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NEXT_DIST_DIR: process.env.NEXT_DIST_DIR,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      PORT: String(port),
      DATABASE_URL: dbUrl,
      APP_URL: url,
      AUTH_SECRET,
      ADMIN_API_TOKEN: ADMIN_TOKEN,
      WEBHOOK_ALLOW_PRIVATE: "1",
    },
  });
  const stop = () => {
    try {
      process.kill(-app.pid!, "SIGTERM");
    } catch {
      /* gone */
    }
  };
  process.on("exit", stop);
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (app.exitCode !== null) throw new Error("the app exited before it was healthy");
      try {
        if ((await fetch(`${url}/api/health`)).ok) break;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error("the app did not become healthy in 120 s");
      await new Promise((r) => setTimeout(r, 200));
    }
    const made = await fetch(`${url}/api/v1/admin/webhooks`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ url: `${receiver.url}/bench`, events: ["license.updated"] }),
    });
    if (made.status !== 201) throw new Error(`creating the endpoint answered ${made.status}: ${await made.text()}`);
    const { secret } = (await made.json()) as { secret: string };

    const pool = createPool(dbUrl, 4);
    const db = dbFromPool(pool);
    const emittedAt = new Map<string, number>();
    const started = performance.now();
    const startedWall = Date.now();
    for (let i = 0; i < EVENTS; i += BATCH) {
      await db.transaction(async (tx) => {
        for (let j = i; j < Math.min(EVENTS, i + BATCH); j++) {
          const id = await emitWebhookEvent(tx, "license.updated", { n: j, changed: ["seats"] });
          emittedAt.set(id!, Date.now());
        }
      });
    }
    const emitSeconds = (performance.now() - started) / 1000;
    await receiver.waitFor(EVENTS, undefined, 30 * 60_000);
    const doneWall = Math.max(...receiver.received.map((r) => r.receivedAt));
    await pool.end();

    // Verified as the receiver would have at receipt: the contract's HMAC (what standardwebhooks computes) and a
    // timestamp within its 5-minute tolerance of the moment of receipt (verify() would compare with now).
    const key = Buffer.from(secret.slice("whsec_".length), "base64");
    const seen = new Set<string>();
    const lags: number[] = [];
    let bad = 0;
    for (const r of receiver.received) {
      const id = r.headers["webhook-id"]!;
      const ts = r.headers["webhook-timestamp"]!;
      const sig = crypto.createHmac("sha256", key).update(`${id}.${ts}.${r.body}`).digest("base64");
      if (!r.headers["webhook-signature"]!.split(" ").includes(`v1,${sig}`) || Math.abs(Number(ts) * 1000 - r.receivedAt) > 300_000) bad++;
      if (seen.has(id)) continue;
      seen.add(id);
      lags.push(r.receivedAt - emittedAt.get(id)!);
    }
    // And the library's own verify on the last one (fresh enough for its clock check).
    const last = receiver.received.at(-1)!;
    new Webhook(secret).verify(last.body, last.headers);
    lags.sort((a, b) => a - b);
    const seconds = (doneWall - startedWall) / 1000;
    console.log(`webhooks: ${EVENTS} events emitted in ${emitSeconds.toFixed(1)} s (${(EVENTS / emitSeconds).toFixed(0)}/s, ${BATCH} per transaction)`);
    console.log(
      `webhooks: ${seen.size} delivered (${receiver.received.length - seen.size} duplicates) in ${seconds.toFixed(1)} s: ${(seen.size / seconds).toFixed(0)} deliveries/s, ${bad === 0 ? "every signature verified" : `${bad} BAD SIGNATURES`}`,
    );
    console.log(`webhooks: lag emit -> receipt p50 ${percentile(lags, 0.5)} ms, p99 ${percentile(lags, 0.99)} ms, max ${lags.at(-1)} ms`);
  } finally {
    stop();
    await receiver.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
