// `npx tsx test/bench/reconcile.ts`: the Stripe reconciliation's time for 10,000 listed events (issue 3's figure),
// against its baseline, measured in the same run:
//   baseline   the raw time to page the same list out of the fake Stripe API with the real SDK (nothing stored)
//   first run  an empty inbox: every event listed, stored and its processing job queued (storeStripeEvent)
//   next run   nothing new: everything listed again (the cursor's overlap window), nothing stored
// Options: BENCH_EVENTS=10000  DATABASE_URL=<server to create keystead_bench_reconcile on>
import Stripe from "stripe";
import { Client } from "pg";
import { createPool, dbFromPool } from "@/server/db/client";
import { migrate } from "@/server/db/migrate";
import { HANDLED_EVENT_TYPES } from "@/server/domain/billing/apply-stripe-event";
import { reconcileStripeEvents } from "@/server/domain/billing/reconcile";
import { stripeConfigForUrl } from "@/server/domain/billing/stripe-client";
import { randomId, startFakeStripe, stripeEvent } from "../helpers/fake-stripe";

const baseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const count = Number(process.env.BENCH_EVENTS ?? 10_000);
const dbName = "keystead_bench_reconcile";

async function freshDatabase(): Promise<string> {
  const c = new Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`drop database if exists "${dbName}" with (force)`);
  await c.query(`create database "${dbName}"`);
  await c.end();
  const u = new URL(baseUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
}

async function main() {
  const fake = await startFakeStripe();
  const types = ["invoice.paid", "customer.subscription.updated", "charge.refunded", "checkout.session.completed"];
  const start = Math.floor(Date.now() / 1000) - count;
  // Added oldest first, so the list is newest first, as Stripe's is; one a second over the last `count` seconds.
  for (let i = 0; i < count; i++) {
    const type = types[i % types.length]!;
    fake.addEvent(stripeEvent(type, { id: randomId("obj"), object: type.split(".")[0] }, { created: start + i }));
  }
  const stripe = new Stripe("sk_test_bench", { ...stripeConfigForUrl(fake.url), maxNetworkRetries: 0 });

  // Baseline: the same pages (same filters, 100 a page) through the same SDK, doing nothing with them.
  const t0 = performance.now();
  let paged = 0;
  let startingAfter: string | undefined;
  for (;;) {
    const page = await stripe.events.list({ types: HANDLED_EVENT_TYPES, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) });
    paged += page.data.length;
    if (!page.has_more) break;
    startingAfter = page.data.at(-1)!.id;
  }
  const baselineMs = performance.now() - t0;

  const url = await freshDatabase();
  const pool = createPool(url, 4);
  await migrate(pool);
  const db = dbFromPool(pool);

  const t1 = performance.now();
  const first = await reconcileStripeEvents({ db, stripe: () => stripe });
  const firstMs = performance.now() - t1;
  const t2 = performance.now();
  const second = await reconcileStripeEvents({ db, stripe: () => stripe });
  const secondMs = performance.now() - t2;
  if (first.error || second.error) throw new Error(first.error ?? second.error!);
  const { rows } = await pool.query("select count(*)::int as jobs from graphile_worker._private_jobs where key like 'stripe-event:%'");

  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`Stripe reconciliation, ${count.toLocaleString("en")} events listed (100 a page):`);
  console.log(`  baseline: page the list, store nothing   ${s(baselineMs)}  (${paged} events)`);
  console.log(`  first run: list + store + queue each     ${s(firstMs)}  (listed ${first.listed}, stored ${first.stored}, jobs ${rows[0].jobs})`);
  console.log(`  next run: list again, nothing new        ${s(secondMs)}  (listed ${second.listed}, stored ${second.stored})`);
  console.log(`  per event, first run: ${((firstMs / count) * 1000).toFixed(0)} µs; over the baseline: ${((firstMs - baselineMs) / count * 1000).toFixed(0)} µs`);

  await pool.end();
  await fake.stop();
  const c = new Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`drop database if exists "${dbName}" with (force)`);
  await c.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
