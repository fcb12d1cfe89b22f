// Admin license search at scale: `npx tsx test/bench/search.ts [licenses=1000000]`.
// Seeds (or tops up) the keystead_bench_search database on DATABASE_URL's server with test/bench/seed.ts
// (licenses with keys benchKey(i), customers bench-<i>@example.com), gives a third of them a device
// ("machine-<i>", a ninth a second one), then times searchLicenses (the function behind the admin page's
// search box, tRPC licenses.search) for each kind of query and prints p50 / p95 / p99.
// Goal (issue 4): p95 under 50 ms for key hint, email prefix and fingerprint at 1,000,000 licenses.
import { performance } from "node:perf_hooks";
import { createPool, dbFromPool } from "@/server/db/client";
import { searchLicenses, type SearchLicensesInput } from "@/server/domain/admin/search";
import { benchDatabase, benchKey, seedLicenses } from "./seed";

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 400);
const WARMUP = 40;
const DB_NAME = process.env.BENCH_SEARCH_DB ?? "keystead_bench_search";



/** Deterministic pseudo-random indexes, so two runs ask the same questions. */
function sampler(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
}

type Case = { name: string; input: (i: number) => SearchLicensesInput };

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const url = await benchDatabase(DB_NAME);
  console.log(`seeding ${TOTAL.toLocaleString("en")} licenses into ${DB_NAME} (reruns only top up)…`);
  const seedStart = Date.now();
  await seedLicenses(url, TOTAL);

  const pool = createPool(url, 4);
  const db = dbFromPool(pool);
  // A third of the licenses have a device, a ninth a second one: fingerprints are what client software sends.
  const { rows } = await pool.query(`select count(*)::int as n from activations`);
  if (rows[0].n === 0) {
    console.log("adding activations…");
    await pool.query(`
      insert into activations (license_id, fingerprint, name, platform)
      select l.id, 'machine-' || m.i, 'Bench machine', 'linux'
      from licenses l
      join customers c on c.id = l.customer_id
      cross join lateral (select substring(c.email from '^bench-(\\d+)@')::int as i) m
      where l.source = 'import' and m.i % 3 = 0
      on conflict do nothing`);
    await pool.query(`
      insert into activations (license_id, fingerprint, name, platform)
      select l.id, 'machine-' || m.i || '-b', 'Second bench machine', 'windows'
      from licenses l
      join customers c on c.id = l.customer_id
      cross join lateral (select substring(c.email from '^bench-(\\d+)@')::int as i) m
      where l.source = 'import' and m.i % 9 = 0
      on conflict do nothing`);
    await pool.query("analyze activations");
  }
  // Some licenses are not active, so the status filter has something rare to find (1% revoked, 2% suspended).
  const { rows: inactive } = await pool.query(`select count(*)::int as n from licenses where status <> 'active'`);
  if (inactive[0].n === 0) {
    await pool.query(`update licenses set status = 'revoked' where source = 'import' and abs(hashtext(id::text)) % 100 = 0`);
    await pool.query(`update licenses set status = 'suspended' where source = 'import' and abs(hashtext(id::text)) % 100 in (1, 2)`);
  }
  await pool.query("analyze licenses; analyze customers");
  const counts = await pool.query(
    `select (select count(*) from licenses)::int as licenses, (select count(*) from customers)::int as customers,
            (select count(*) from activations)::int as activations`,
  );
  console.log(`ready in ${((Date.now() - seedStart) / 1000).toFixed(0)} s:`, counts.rows[0]);

  const pick = sampler(7);
  const existing = (n: number) => pick(Math.min(n, TOTAL));
  const cases: Case[] = [
    { name: "key hint (…-ABCDE, field key)", input: (i) => ({ q: `…-${benchKey(i).slice(-5)}`, field: "key" }) },
    { name: "key hint (auto: also email + fingerprint)", input: (i) => ({ q: benchKey(i).slice(-5) }) },
    { name: "full key", input: (i) => ({ q: benchKey(i) }) },
    { name: "email prefix (bench-<i>, field email)", input: (i) => ({ q: `bench-${i}`, field: "email" }) },
    { name: "email prefix, whole address", input: (i) => ({ q: `BENCH-${i}@example.com`, field: "email" }) },
    { name: "email prefix 'bench-1' (111,111 customers)", input: () => ({ q: "bench-1", field: "email" }) },
    { name: "email prefix 'bench-12' (11,111 customers)", input: () => ({ q: "bench-12", field: "email" }) },
    { name: "email prefix 'bench-123' (1,111 customers)", input: () => ({ q: "bench-123", field: "email" }) },
    { name: "fingerprint (existing, field fingerprint)", input: (i) => ({ q: `machine-${i - (i % 3)}`, field: "fingerprint" }) },
    { name: "fingerprint (auto)", input: (i) => ({ q: `machine-${i - (i % 3)}` }) },
    { name: "fingerprint (unknown)", input: (i) => ({ q: `nobody-${i}`, field: "fingerprint" }) },
    { name: "no query, first page", input: () => ({}) },
    { name: "status filter only (active)", input: () => ({ status: "active" }) },
    { name: "status filter only (revoked, 1%)", input: () => ({ status: "revoked" }) },
    { name: "product filter only", input: () => ({ product: "bench" }) },
    { name: "email prefix + status revoked", input: (i) => ({ q: `bench-${i % 1000}`, field: "email", status: "revoked" }) },
  ];

  const results: { name: string; p50: number; p95: number; p99: number; max: number; hits: number }[] = [];
  for (const c of cases) {
    for (let w = 0; w < WARMUP; w++) await searchLicenses(db, { ...c.input(existing(TOTAL)), limit: 25 });
    const times: number[] = [];
    let hits = 0;
    for (let s = 0; s < SAMPLES; s++) {
      const input = { ...c.input(existing(TOTAL)), limit: 25 };
      const t0 = performance.now();
      const page = await searchLicenses(db, input);
      times.push(performance.now() - t0);
      if (page.data.length) hits++;
    }
    times.sort((a, b) => a - b);
    const r = { name: c.name, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99), max: times[times.length - 1]!, hits };
    results.push(r);
    console.log(
      `${r.name.padEnd(48)} p50 ${r.p50.toFixed(2).padStart(7)} ms  p95 ${r.p95.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms  max ${r.max.toFixed(1).padStart(7)} ms  (${r.hits}/${SAMPLES} found)`,
    );
  }

  // A deep keyset page: the 20,000th license of an unfiltered listing costs the same as the first.
  let cursor: string | undefined;
  const deep: number[] = [];
  for (let p = 0; p < 200; p++) {
    const t0 = performance.now();
    const page = await searchLicenses(db, { limit: 100, cursor });
    deep.push(performance.now() - t0);
    cursor = page.nextCursor ?? undefined;
    if (!cursor) break;
  }
  deep.sort((a, b) => a - b);
  console.log(`${"paging 200 × 100 rows (keyset)".padEnd(48)} p50 ${percentile(deep, 50).toFixed(2).padStart(7)} ms  p95 ${percentile(deep, 95).toFixed(2).padStart(7)} ms`);

  const goal = results.filter((r) => /^(key hint \(…|email prefix \(bench|fingerprint \(existing)/.test(r.name));
  const ok = goal.every((r) => r.p95 < 50);
  console.log(`\ngoal (p95 < 50 ms for key hint, email prefix, fingerprint): ${ok ? "met" : "NOT met"}`);
  await pool.end();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
