import { sql } from "drizzle-orm";
import client from "prom-client";
import { db as appDb, type Db } from "@/server/db/client";

/**
 * What GET /metrics shows (Prometheus text, prom-client). One registry per process on globalThis: the door's
 * bundle and Next's (instrumentation, the worker, route files) each have their copy of this module, and web and
 * worker share the process unless WORKER=off.
 *
 * Counters and histograms count what this process did. The gauges about queues (jobs, emails, Stripe events)
 * are read from the database at scrape time, so a web-only replica (WORKER=off) reports them too.
 */
type Metrics = ReturnType<typeof createMetrics>;
const holder = globalThis as unknown as { __keysteadMetrics?: Metrics };

/** Seconds; from a cached answer (a few ms) to a slow page render. */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds from Stripe creating an event to our storing it: retries by Stripe can take hours. */
const LAG_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400];

function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "keystead_process_" });
  /** A database that cannot answer leaves the gauge as it was: the scrape still shows everything else. */
  const db = (): Db | undefined => appDb();

  const validations = new client.Counter({
    name: "keystead_validations_total",
    help: "License validations answered, by code (VALID, NOT_FOUND, EXPIRED, ... and error codes such as RATE_LIMITED).",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const activations = new client.Counter({
    name: "keystead_activations_total",
    help: "License activations answered, by code (ACTIVATED, ALREADY_ACTIVATED, SEATS_EXHAUSTED, ... and error codes).",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const httpDuration = new client.Histogram({
    name: "keystead_http_request_duration_seconds",
    help: "HTTP request latency, by method, route template and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const webhookLag = new client.Histogram({
    name: "keystead_stripe_webhook_lag_seconds",
    help: "Seconds from Stripe creating an event to this app storing it from a webhook delivery.",
    buckets: LAG_BUCKETS,
    registers: [registry],
  });
  const jobsFailed = new client.Counter({
    name: "keystead_jobs_failed_total",
    help: "Job attempts that failed in this process's worker, by task (each is retried until its attempts run out).",
    labelNames: ["task"] as const,
    registers: [registry],
  });

  // Gauges read from the database when scraped: any replica answers them, whichever process did the work.
  new client.Gauge({
    name: "keystead_jobs_waiting",
    help: "Jobs ready to run and not yet taken (the queue depth).",
    registers: [registry],
    async collect() {
      await quietly(async () => {
        const d = db();
        if (d) this.set(await jobsWaiting(d));
      });
    },
  });
  new client.Gauge({
    name: "keystead_jobs_given_up",
    help: "Jobs whose attempts ran out (left in the queue for inspection).",
    registers: [registry],
    async collect() {
      await quietly(async () => {
        const d = db();
        if (!d) return;
        const r = await d.execute(sql`select count(*)::int as n from graphile_worker.jobs where attempts >= max_attempts`);
        this.set(Number(r.rows[0]?.n ?? 0));
      });
    },
  });
  new client.Gauge({
    name: "keystead_emails_waiting",
    help: "Emails owed and not yet sent (queued, retrying, or held until an email provider is configured).",
    registers: [registry],
    async collect() {
      await quietly(async () => {
        const d = db();
        if (!d) return;
        const r = await d.execute(sql`select count(*)::int as n from email_outbox where status in ('pending', 'waiting')`);
        this.set(Number(r.rows[0]?.n ?? 0));
      });
    },
  });
  new client.Gauge({
    name: "keystead_emails_failed",
    help: "Emails given up on after their attempts ran out (the admin can retry them).",
    registers: [registry],
    async collect() {
      await quietly(async () => {
        const d = db();
        if (!d) return;
        const r = await d.execute(sql`select count(*)::int as n from email_outbox where status = 'failed'`);
        this.set(Number(r.rows[0]?.n ?? 0));
      });
    },
  });
  new client.Gauge({
    name: "keystead_stripe_events",
    help: "Stripe events stored, by status (pending, processed, ignored, failed).",
    labelNames: ["status"] as const,
    registers: [registry],
    async collect() {
      await quietly(async () => {
        const d = db();
        if (!d) return;
        const r = await d.execute(sql`select status, count(*)::int as n from stripe_events group by status`);
        this.reset();
        for (const status of ["pending", "processed", "ignored", "failed"]) this.set({ status }, 0);
        for (const row of r.rows) this.set({ status: String(row.status) }, Number(row.n));
      });
    },
  });
  new client.Gauge({
    name: "keystead_stripe_oldest_pending_event_age_seconds",
    help: "Age of the oldest Stripe event stored and not yet processed (0 when none waits).",
    registers: [registry],
    async collect() {
      await quietly(async () => {
        const d = db();
        if (d) this.set((await oldestPendingStripeEventAgeSeconds(d)) ?? 0);
      });
    },
  });

  return { registry, validations, activations, httpDuration, webhookLag, jobsFailed };
}

async function quietly(read: () => Promise<void>) {
  try {
    await read();
  } catch {
    /* the database is down: /api/ready says so; the gauge keeps its last value */
  }
}

export function metrics(): Metrics {
  holder.__keysteadMetrics ??= createMetrics();
  return holder.__keysteadMetrics;
}

/** One answer of a public license route; validate and activate are counted by code. */
export function recordLicenseAnswer(route: string, code: string) {
  if (route === "validate") metrics().validations.inc({ code });
  else if (route === "activate") metrics().activations.inc({ code });
}

export async function jobsWaiting(db: Db): Promise<number> {
  const r = await db.execute(
    sql`select count(*)::int as n from graphile_worker.jobs where locked_at is null and run_at <= now() and attempts < max_attempts`,
  );
  return Number(r.rows[0]?.n ?? 0);
}

/** Seconds since the oldest still-pending Stripe event was received; null when none is pending. */
export async function oldestPendingStripeEventAgeSeconds(db: Db): Promise<number | null> {
  const r = await db.execute(
    sql`select extract(epoch from now() - min(received_at))::float8 as age from stripe_events where status = 'pending'`,
  );
  const age = r.rows[0]?.age;
  return age === null || age === undefined ? null : Math.max(0, Math.round(Number(age)));
}

/** The Prometheus text of this process's registry. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  const { registry } = metrics();
  return { contentType: registry.contentType, body: await registry.metrics() };
}
