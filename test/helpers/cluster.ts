import { spawn, type ChildProcess } from "node:child_process";
import type { Pool } from "pg";
import { TEST_ADMIN_TOKEN, TEST_AUTH_SECRET, TEST_WEBHOOK_SECRET, type TestApp } from "./app";
import { randomId, signedWebhook, stripeEvent, type FakeStripe } from "./fake-stripe";
import { WORKER_ENTRY } from "./processes";

/**
 * Pieces for tests that run Keystead as a deployment does: web replicas (startApp with WORKER=off) and separate
 * `npm run worker` processes (dist/worker.js) on one database, and bursts of Stripe checkouts through them.
 */

export type WorkerProcess = {
  pid: number;
  logs: () => string;
  /** Signals the process group and waits for the exit (SIGKILL after `graceMs`). */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
};

/** `npm run worker` against `databaseUrl`, with the same settings startApp gives the app; resolves once it runs. */
export async function startWorkerProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  let output = "";
  const child: ChildProcess = spawn(process.execPath, [WORKER_ENTRY], {
    cwd: process.cwd(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      APP_URL: "http://127.0.0.1:9",
      AUTH_SECRET: TEST_AUTH_SECRET,
      ADMIN_API_TOKEN: TEST_ADMIN_TOKEN,
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      RETRY_BASE_MS: "100",
      WORKER_POLL_INTERVAL_MS: "100",
      ...env,
    },
  });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitedPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve((exited = { code, signal }))),
  );
  const stop = async (signal: NodeJS.Signals = "SIGTERM", graceMs = 20_000) => {
    if (!exited) {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          /* gone */
        }
      }, graceMs);
      await exitedPromise;
      clearTimeout(t);
    }
    return exited!;
  };
  const deadline = Date.now() + 60_000;
  while (!output.includes("[keystead] worker started")) {
    if (exited) throw new Error(`the worker exited before it started:\n${output}`);
    if (Date.now() > deadline) {
      await stop("SIGKILL");
      throw new Error(`the worker did not start in 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid!, logs: () => output, stop, exit: () => exited };
}

export const adminHeaders = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** A product and a three-seat plan bound to a fresh Stripe price, through the management API. */
export async function setUpCatalog(app: TestApp, slug = "acme"): Promise<{ priceId: string }> {
  const priceId = randomId("price");
  const product = await app.post("/api/v1/admin/products", { slug, name: "Acme Editor" }, adminHeaders);
  if (product.status !== 201) throw new Error(`product: ${product.status} ${JSON.stringify(product.body)}`);
  const plan = await app.post(
    "/api/v1/admin/plans",
    { product: slug, slug: `${slug}-pro`, name: "Pro", seats: 3, durationDays: null, entitlements: [], stripePriceIds: [priceId] },
    adminHeaders,
  );
  if (plan.status !== 201) throw new Error(`plan: ${plan.status} ${JSON.stringify(plan.body)}`);
  return { priceId };
}

export type Checkout = { email: string; sessionId: string; delivery: { body: string; headers: Record<string, string> } };

/** `n` paid checkouts, each by its own buyer, stored in the fake Stripe, with their signed webhook deliveries. */
export function checkouts(stripe: FakeStripe, priceId: string, n: number, tag = randomId("b").slice(-6)): Checkout[] {
  return Array.from({ length: n }, (_, i) => {
    const email = `buyer-${tag}-${i}@example.com`;
    const session = stripe.addCheckoutSession({ email }, [{ priceId, quantity: 1 }]);
    return { email, sessionId: session.id as string, delivery: signedWebhook(stripeEvent("checkout.session.completed", session)) };
  });
}

/**
 * Delivers webhooks `concurrency` at a time, round-robin over `apps`, like Stripe behind a load balancer.
 * Resolves with each delivery's status (0: the connection failed).
 */
export async function deliver(apps: TestApp[], list: Checkout[], concurrency = 16): Promise<number[]> {
  const statuses: number[] = new Array(list.length).fill(0);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < list.length; i = next++) {
      const app = apps[i % apps.length]!;
      try {
        const res = await fetch(`${app.url}/api/stripe/webhook`, { method: "POST", body: list[i]!.delivery.body, headers: list[i]!.delivery.headers });
        await res.arrayBuffer();
        statuses[i] = res.status;
      } catch {
        statuses[i] = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return statuses;
}

/** What the database holds after a burst: licenses per checkout session, emails per recipient. */
export async function tally(pool: Pool) {
  const licenses = (await pool.query(`select count(*)::int as n, count(distinct stripe_checkout_session_id)::int as sessions from licenses`)).rows[0];
  const outbox = (
    await pool.query(
      `select count(*)::int as n, count(distinct "to")::int as recipients,
              count(*) filter (where status = 'sent')::int as sent,
              count(*) filter (where status = 'failed')::int as failed from email_outbox`,
    )
  ).rows[0];
  const events = (await pool.query(`select status, count(*)::int as n from stripe_events group by status`)).rows;
  const jobs = (await pool.query(`select count(*)::int as n, count(*) filter (where locked_by is not null)::int as locked from graphile_worker._private_jobs`)).rows[0];
  return {
    licenses: licenses.n as number,
    licensedSessions: licenses.sessions as number,
    emails: outbox.n as number,
    emailRecipients: outbox.recipients as number,
    emailsSent: outbox.sent as number,
    emailsFailed: outbox.failed as number,
    events: Object.fromEntries(events.map((e) => [e.status, e.n])) as Record<string, number>,
    jobs: jobs.n as number,
    lockedJobs: jobs.locked as number,
  };
}

/** Recipients that got a number of deliveries other than one. */
export function notOnce(recipients: string[], expected: string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const r of recipients) counts.set(r.toLowerCase(), (counts.get(r.toLowerCase()) ?? 0) + 1);
  const off: Record<string, number> = {};
  for (const e of expected) if (counts.get(e.toLowerCase()) !== 1) off[e] = counts.get(e.toLowerCase()) ?? 0;
  for (const [r, n] of counts) if (!expected.some((e) => e.toLowerCase() === r)) off[r] = n;
  return off;
}
