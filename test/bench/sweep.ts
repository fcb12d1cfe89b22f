// The expiry sweep on a database full of history: `npx tsx test/bench/sweep.ts [licenses=1000000]`.
// Seeds (or tops up) keystead_bench_sweep on DATABASE_URL's server, then gives it years of history: 15 of
// every 16 licenses expired in the past (status expired), the rest active with an expiry next month, so a sweep
// finds nothing due, as on most minutes. It times expireLicenses (what the crontab runs every minute) with the
// index the migrations create (live licenses only) against, in the same run, the index it replaced (every
// license with an expiry), and prints both and their ratio.
import { performance } from "node:perf_hooks";
import { createPool, dbFromPool } from "@/server/db/client";
import { expireLicenses } from "@/server/domain/sweeps/expire";
import { benchDatabase, seedLicenses } from "./seed";

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const SWEEPS = Number(process.env.BENCH_SAMPLES ?? 50);

const LIVE_INDEX = `create index licenses_live_expires_idx on licenses (expires_at)
  where expires_at is not null and status in ('active', 'past_due')`;
const OLD_INDEX = `create index licenses_expires_idx on licenses (expires_at) where expires_at is not null`;

async function main() {
  const url = await benchDatabase("keystead_bench_sweep");
  await seedLicenses(url, TOTAL);
  const pool = createPool(url, 2);
  const db = dbFromPool(pool);
  try {
    await pool.query(`update licenses set status = 'expired', expires_at = now() - interval '1 day' * (1 + abs(hashtext(id::text)) % 1500)
                       where abs(hashtext(id::text)) % 16 <> 0 and (status <> 'expired' or expires_at is null)`);
    await pool.query(`update licenses set status = 'active', expires_at = now() + interval '30 days'
                       where abs(hashtext(id::text)) % 16 = 0`);
    const { rows } = await pool.query(
      `select count(*) filter (where status = 'expired')::int as expired, count(*)::int as total from licenses`,
    );
    console.log(
      `${rows[0].total.toLocaleString("en")} licenses, ${rows[0].expired.toLocaleString("en")} of them expired in the past`,
    );

    const time = async (label: string, create: string) => {
      await pool.query("drop index if exists licenses_live_expires_idx; drop index if exists licenses_expires_idx");
      await pool.query(create);
      await pool.query("analyze licenses");
      for (let i = 0; i < 5; i++) await expireLicenses(db);
      const samples: number[] = [];
      for (let i = 0; i < SWEEPS; i++) {
        const t = performance.now();
        const batch = await expireLicenses(db);
        samples.push(performance.now() - t);
        if (batch.processed !== 0) throw new Error("the sweep found licenses due: the scenario is wrong");
      }
      samples.sort((a, b) => a - b);
      const p50 = samples[Math.floor(samples.length / 2)]!;
      console.log(
        `${label.padEnd(44)} p50 ${p50.toFixed(2).padStart(8)} ms  max ${samples.at(-1)!.toFixed(2).padStart(8)} ms`,
      );
      return p50;
    };
    const old = await time("old index (every license with an expiry)", OLD_INDEX);
    const live = await time("live index (active and past_due only)", LIVE_INDEX);
    console.log(`expiry sweep with nothing due: ${(old / live).toFixed(0)}x faster with the live index`);
  } finally {
    // Leave the database as the migrations made it.
    await pool.query("drop index if exists licenses_expires_idx");
    await pool.query(LIVE_INDEX.replace("create index", "create index if not exists"));
    await pool.end();
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
