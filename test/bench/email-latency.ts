// `npx tsx test/bench/email-latency.ts`: the time from a Stripe webhook's 200 to the customer's email being
// accepted by an SMTP server, p50 and p99, for a burst of distinct checkout.session.completed events.
//
// It starts the built app (`next start`, web + worker, default RETRY_BASE_MS and WORKER_POLL_INTERVAL_MS), the
// fake Stripe API (test/helpers/fake-stripe.ts) and the SMTP catcher, fires the signed webhooks with bounded
// concurrency, and stamps each 200 and each message's acceptance by the catcher. Baseline in the same run: the
// catcher accepting the same number of messages (the real rendered license email) sent directly with
// nodemailer, one connection per message and the worker's concurrency, as the app's SMTP sender does.
//
// Options: EMAIL_BENCH_EVENTS=1000  EMAIL_BENCH_CONCURRENCY=16 (webhooks in flight)
//          DATABASE_URL=<server to create keystead_email_bench on>  NEXT_DIST_DIR=<build dir, default .next>
import { spawn, execSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import Module from "node:module";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { render } from "@react-email/render";
import nodemailer from "nodemailer";
import { Client } from "pg";
import { createElement } from "react";
import LicenseIssuedEmail from "../../emails/license-issued";
import { freePort } from "../helpers/ports";
import { startSmtpCatcher, type CaughtMessage } from "../helpers/smtp-catcher";

const root = process.cwd();
const baseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const EVENTS = Number(process.env.EMAIL_BENCH_EVENTS ?? 1000);
const CONCURRENCY = Number(process.env.EMAIL_BENCH_CONCURRENCY ?? 16);
/** The app's worker runs this many jobs at once (server/jobs/worker.ts); the baseline sends with the same. */
const WORKER_CONCURRENCY = 4;
const distDir = process.env.NEXT_DIST_DIR || ".next";
const AUTH_SECRET = "bench-auth-secret-0123456789abcdef";
const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
const DB_NAME = "keystead_email_bench";

// test/helpers/app.ts (which fake-stripe.ts imports for the webhook secret) imports vitest's inject() through
// test/helpers/db.ts; outside vitest, requiring "vitest" throws. Nothing here calls inject, so a stub will do.
const moduleLoader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const load = moduleLoader._load;
moduleLoader._load = function (request: string, ...rest: unknown[]) {
  if (request === "vitest") return { inject: () => { throw new Error("inject() only works under vitest"); } };
  return load.call(this, request, ...rest);
};

type Stats = { p50: number; p99: number; max: number; mean: number };

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]!, mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

const ms = (n: number) => `${n.toFixed(0).padStart(6)} ms`;
const fmt = (s: Stats) => `p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  max ${ms(s.max)}  mean ${ms(s.mean)}`;

/** Runs `task(i)` for i in [0, n) with at most `limit` in flight. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

function dbUrl(name: string) {
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function freshDatabase() {
  const c = new Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`drop database if exists "${DB_NAME}" with (force)`);
  await c.query(`create database "${DB_NAME}"`);
  await c.end();
}

async function dropDatabase() {
  const c = new Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`drop database if exists "${DB_NAME}" with (force)`);
  await c.end();
}

async function waitHealthy(url: string, app: ChildProcess, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error("the app exited before it was healthy");
    try {
      if ((await fetch(`${url}/api/health`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not become healthy in time`);
}

/** Stamps each message at the moment the catcher accepts it (it pushes to `messages` just before its 250 reply). */
function stampArrivals(messages: CaughtMessage[]): Map<string, number> {
  const arrivals = new Map<string, number>();
  const push = messages.push.bind(messages);
  messages.push = (...items: CaughtMessage[]) => {
    const t = performance.now();
    for (const m of items) for (const to of m.to) arrivals.set(to.toLowerCase(), t);
    return push(...items);
  };
  return arrivals;
}

async function baseline(html: string, text: string) {
  const catcher = await startSmtpCatcher();
  const arrivals = stampArrivals(catcher.messages);
  const sentAt = new Map<string, number>();
  const start = performance.now();
  await pool(EVENTS, WORKER_CONCURRENCY, async (i) => {
    const to = `direct-${i}@example.com`;
    const transport = nodemailer.createTransport({ url: catcher.url });
    sentAt.set(to, performance.now());
    await transport.sendMail({ from: "Keystead <licenses@localhost>", to, subject: "Your license key for Acme Studio", html, text });
    transport.close();
  });
  const elapsed = performance.now() - start;
  await catcher.stop();
  const latencies = [...sentAt].map(([to, t]) => arrivals.get(to)! - t);
  return { latency: stats(latencies), elapsed, rate: (EVENTS / elapsed) * 1000 };
}

async function main() {
  if (!fs.existsSync(path.join(root, distDir, "BUILD_ID"))) {
    console.log(`building the app into ${distDir} (next build)...`);
    execSync("npx next build", { stdio: "inherit", env: { ...process.env, NEXT_DIST_DIR: distDir === ".next" ? "" : distDir } });
  }
  const { startFakeStripe, signedWebhook, stripeEvent, randomId } = await import("../helpers/fake-stripe");
  const { TEST_WEBHOOK_SECRET } = await import("../helpers/app");

  // The real license email, rendered once, so the baseline moves the same bytes.
  const element = createElement(LicenseIssuedEmail, LicenseIssuedEmail.PreviewProps);
  const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);

  console.log(`== Baseline: ${EVENTS} messages sent straight to the SMTP catcher with nodemailer (${WORKER_CONCURRENCY} at a time) ==`);
  const base = await baseline(html, text);
  console.log(`   send -> accepted: ${fmt(base.latency)}`);
  console.log(`   ${base.rate.toFixed(0)} messages/s (${(base.elapsed / 1000).toFixed(1)} s for ${EVENTS})`);

  await freshDatabase();
  const catcher = await startSmtpCatcher();
  const arrivals = stampArrivals(catcher.messages);
  const fake = await startFakeStripe();
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const app = spawn(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NEXT_DIST_DIR: distDir === ".next" ? "" : distDir,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      DATABASE_URL: dbUrl(DB_NAME),
      APP_URL: appUrl,
      AUTH_SECRET,
      ADMIN_API_TOKEN: ADMIN_TOKEN,
      STRIPE_SECRET_KEY: "sk_test_bench",
      STRIPE_API_URL: fake.url,
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      SMTP_URL: catcher.url,
      RATE_LIMIT_IP: "0",
      RATE_LIMIT_KEY: "0",
      // RETRY_BASE_MS and WORKER_POLL_INTERVAL_MS stay at their defaults (10 s, 2 s).
    },
  });
  const stopApp = () => {
    try {
      process.kill(-app.pid!, "SIGKILL");
    } catch {
      /* gone */
    }
  };

  try {
    await waitHealthy(appUrl, app);
    const admin = async (route: string, body: unknown) => {
      const res = await fetch(`${appUrl}/api/v1/admin/${route}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`POST ${route}: ${res.status} ${await res.text()}`);
    };
    const priceId = randomId("price");
    await admin("products", { slug: "acme-studio", name: "Acme Studio" });
    await admin("plans", { product: "acme-studio", slug: "pro", name: "Pro", seats: 1, durationDays: 365, entitlements: [], stripePriceIds: [priceId] });

    const deliveries = Array.from({ length: EVENTS }, (_, i) => {
      const email = `buyer-${i}@example.com`;
      const session = fake.addCheckoutSession({ email }, [{ priceId }]);
      return { email, ...signedWebhook(stripeEvent("checkout.session.completed", session)) };
    });

    // Warm the route (first-request compilation of the handler) with one event that is not measured.
    const warm = fake.addCheckoutSession({ email: "warm-up@example.com" }, [{ priceId }]);
    const w = signedWebhook(stripeEvent("checkout.session.completed", warm));
    await fetch(`${appUrl}/api/stripe/webhook`, { method: "POST", headers: w.headers, body: w.body });
    await waitFor(() => arrivals.has("warm-up@example.com"), 60_000, "the warm-up email");

    console.log(`\n== ${EVENTS} distinct checkout.session.completed webhooks, ${CONCURRENCY} in flight, against next start (web + worker) ==`);
    const okAt = new Map<string, number>();
    const responseTimes: number[] = [];
    const start = performance.now();
    await pool(EVENTS, CONCURRENCY, async (i) => {
      const d = deliveries[i]!;
      const sent = performance.now();
      const res = await fetch(`${appUrl}/api/stripe/webhook`, { method: "POST", headers: d.headers, body: d.body });
      await res.text();
      if (res.status !== 200) throw new Error(`webhook ${i}: ${res.status}`);
      const t = performance.now();
      okAt.set(d.email, t);
      responseTimes.push(t - sent);
    });
    const webhooksDone = performance.now();
    await waitFor(() => deliveries.every((d) => arrivals.has(d.email)), 15 * 60_000, `${EVENTS} emails`);
    const lastArrival = Math.max(...deliveries.map((d) => arrivals.get(d.email)!));

    const latencies = deliveries.map((d) => arrivals.get(d.email)! - okAt.get(d.email)!);
    const s = stats(latencies);
    console.log(`   webhook response time : ${fmt(stats(responseTimes))}`);
    console.log(`   all 200s in           : ${((webhooksDone - start) / 1000).toFixed(1)} s (${((EVENTS / (webhooksDone - start)) * 1000).toFixed(0)} webhooks/s)`);
    console.log(`   200 -> SMTP accepted  : ${fmt(s)}`);
    console.log(
      `   throughput            : ${((EVENTS / (lastArrival - start)) * 1000).toFixed(1)} emails/s end to end (${((lastArrival - start) / 1000).toFixed(1)} s from the first webhook to the last email)`,
    );
    console.log(`   baseline (direct SMTP): ${base.rate.toFixed(0)} messages/s, p50 ${base.latency.p50.toFixed(0)} ms, p99 ${base.latency.p99.toFixed(0)} ms`);

    const check = new Client({ connectionString: dbUrl(DB_NAME) });
    await check.connect();
    const { rows } = await check.query(
      `select (select count(*)::int from licenses) as licenses,
              (select count(*)::int from email_outbox where status = 'sent') as sent,
              (select coalesce(sum(attempts), 0)::int from email_outbox) as attempts`,
    );
    await check.end();
    const dupes = catcher.messages.length - (EVENTS + 1);
    console.log(`   check: ${rows[0].licenses} licenses, ${rows[0].sent} outbox rows sent in ${rows[0].attempts} attempts, ${dupes} duplicate messages`);
  } finally {
    stopApp();
    await catcher.stop();
    await fake.stop();
    await new Promise((r) => setTimeout(r, 500));
    await dropDatabase().catch(() => undefined);
  }
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
