import { eventually, startApp, type TestApp } from "./app";
import { checkouts, deliver, notOnce, setUpCatalog, startWorkerProcess, tally, type WorkerProcess } from "./cluster";
import { createTestDatabase, type TestDb } from "./db";
import { startFakeResend, type FakeResend } from "./fake-resend";
import { startFakeStripe, type FakeStripe } from "./fake-stripe";

/**
 * The fault scenarios of test/faults*.test.ts, written once so the soak script (test/bench/soak.ts) runs the
 * same code with bigger numbers. Each returns the figures it measured; the tests assert on them.
 */

export type KillFigures = {
  checkouts: number;
  webhooksAccepted: number;
  licensesAtKill: number;
  jobsLockedAtKill: number;
  licenses: number;
  licensedSessions: number;
  emailsDelivered: number;
  /** Recipients with other than exactly one delivered email (should be empty). */
  notOnce: Record<string, number>;
  /** POSTs to the provider repeated after the kill (answered from its idempotency key: no second delivery). */
  providerRepeats: number;
  secondsToRecover: number;
  secondsTotal: number;
};

/** kill -9 of the worker process in the middle of a burst of `n` checkouts; a new worker takes over. */
export async function killWorkerMidBurst(n: number, log: (line: string) => void = () => undefined): Promise<KillFigures> {
  const started = Date.now();
  const database = await createTestDatabase("kill9");
  const stripe = await startFakeStripe();
  const resend = await startFakeResend();
  const env = { STRIPE_SECRET_KEY: "sk_test_kill9", STRIPE_API_URL: stripe.url, RESEND_API_KEY: "re_test_kill9", RESEND_BASE_URL: resend.url };
  const workers: WorkerProcess[] = [];
  let web: TestApp | undefined;
  try {
    web = await startApp({ database, env: { ...env, WORKER: "off", RATE_LIMIT_IP: "0" } });
    const { priceId } = await setUpCatalog(web);
    const list = checkouts(stripe, priceId, n);
    workers.push(await startWorkerProcess(database.url, env));
    const burst = deliver([web], list, 24);

    // Mid-burst: a quarter of the licenses issued, jobs running.
    await eventually(async () => (await tally(database.pool)).licenses >= n / 4, 120_000, "a quarter of the licenses");
    const atKill = await tally(database.pool);
    await workers[0]!.stop("SIGKILL");
    const killedAt = Date.now();
    log(`killed the worker at ${atKill.licenses} licenses, ${atKill.lockedJobs} jobs locked`);
    workers.push(await startWorkerProcess(database.url, env));
    const statuses = await burst;

    const delivered = () => new Set(resend.deliveries.map((d) => d.idempotencyKey)).size;
    await eventually(async () => delivered() >= n, 240_000, `${n} emails delivered`);
    const done = await eventually(async () => {
      const t = await tally(database.pool);
      return t.jobs === 0 || (t.events.processed === n && t.emailsSent === n) ? t : undefined;
    }, 30_000, "the queue to drain");
    const recovered = Date.now();
    // Time for a double to show, if one were coming.
    await new Promise((r) => setTimeout(r, 1_000));
    const final = await tally(database.pool);
    void done;
    const keys = resend.requests.filter((r) => r.answer.status === 200).map((r) => r.idempotencyKey);
    return {
      checkouts: n,
      webhooksAccepted: statuses.filter((s) => s === 200).length,
      licensesAtKill: atKill.licenses,
      jobsLockedAtKill: atKill.lockedJobs,
      licenses: final.licenses,
      licensedSessions: final.licensedSessions,
      emailsDelivered: resend.deliveries.length,
      notOnce: notOnce(
        resend.deliveries.flatMap((d) => (Array.isArray(d.body.to) ? d.body.to : [d.body.to])),
        list.map((c) => c.email),
      ),
      providerRepeats: keys.length - new Set(keys).size,
      secondsToRecover: (recovered - killedAt) / 1000,
      secondsTotal: (Date.now() - started) / 1000,
    };
  } finally {
    for (const w of workers) await w.stop("SIGKILL");
    await web?.stop();
    await stripe.stop();
    await resend.stop();
    await database.drop();
  }
}

export type { FakeResend, FakeStripe, TestDb };
