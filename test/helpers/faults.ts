import { eventually, startApp, type TestApp } from "./app";
import { adminHeaders, checkouts, deliver, notOnce, setUpCatalog, startWorkerProcess, tally, type WorkerProcess } from "./cluster";
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
  /** From the kill until no job was locked by the dead worker any more (its jobs back in the queue). */
  secondsUntilDeadWorkersJobsReleased: number;
  /** From the kill until every license was issued and every email delivered. */
  secondsToDrain: number;
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
    const holders = (await database.pool.query(`select distinct locked_by from graphile_worker._private_jobs where locked_by is not null`)).rows.map((r) => r.locked_by as string);
    await workers[0]!.stop("SIGKILL");
    const killedAt = Date.now();
    const released = eventually(
      async () =>
        (await database.pool.query(`select count(*)::int as n from graphile_worker._private_jobs where locked_by = any($1)`, [holders])).rows[0].n === 0
          ? Date.now()
          : undefined,
      120_000,
      "the dead worker's jobs to be released",
    );
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
    const releasedAt = await released;
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
      secondsUntilDeadWorkersJobsReleased: (releasedAt - killedAt) / 1000,
      secondsToDrain: (recovered - killedAt) / 1000,
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

/** Moves the queue's clock: every waiting job of `task` becomes due `seconds` sooner (as if that much time passed). */
export async function moveQueueClock(database: TestDb, seconds: number, task = "send_email") {
  await database.pool.query(
    `update graphile_worker._private_jobs j set run_at = j.run_at - make_interval(secs => $1)
       from graphile_worker._private_tasks t
      where t.id = j.task_id and t.identifier = $2 and j.locked_at is null`,
    [seconds, task],
  );
  await database.pool.query(`update email_outbox set next_attempt_at = next_attempt_at - make_interval(secs => $1) where next_attempt_at is not null`, [seconds]);
}

/** Seconds until the earliest waiting job of `task` is due (null: none waiting), and how many are due now or running. */
async function queueState(database: TestDb, task = "send_email") {
  const r = (
    await database.pool.query(
      `select extract(epoch from min(j.run_at) filter (where j.run_at > now()) - now())::float as wait,
              count(*) filter (where j.run_at <= now() or j.locked_at is not null)::int as due
         from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = $1`,
      [task],
    )
  ).rows[0];
  return { wait: r.wait as number | null, due: r.due as number };
}

export type OutageFigures = {
  emails: number;
  outageMinutes: number;
  attemptsDuringOutage: number;
  /** Provider calls per email, min and max, until it went out. */
  attemptsPerEmail: { min: number; max: number };
  /** When the emails went out, in minutes of moved clock after the first attempt. */
  sentAtMinute: { first: number; last: number };
  delivered: number;
  notOnce: Record<string, number>;
  failedForGood: number;
  secondsTotal: number;
};

/**
 * The email provider down for `outageMinutes` of a moved clock: `n` license emails wait through their retries
 * (the default schedule: RETRY_BASE_MS 10 s doubling), then go out once each when the provider is back.
 */
export async function emailProviderOutage(n: number, outageMinutes = 60): Promise<OutageFigures> {
  const started = Date.now();
  const database = await createTestDatabase("outage");
  const stripe = await startFakeStripe();
  const resend = await startFakeResend();
  let app: TestApp | undefined;
  try {
    app = await startApp({
      database,
      env: { STRIPE_SECRET_KEY: "sk_test_outage", STRIPE_API_URL: stripe.url, RESEND_API_KEY: "re_test_outage", RESEND_BASE_URL: resend.url, RETRY_BASE_MS: "10000" },
    });
    const { priceId } = await setUpCatalog(app);
    resend.failNext(1_000_000, 503);
    const list = checkouts(stripe, priceId, n);
    await deliver([app], list, 8);
    await eventually(async () => (await tally(database.pool)).emails === n, 60_000, "every license email queued");
    let moved = 0;
    const sentAt = new Map<string, number>();
    const outage = outageMinutes * 60;
    let providerUp = false;
    for (let step = 0; step < 2_000; step++) {
      // Let every due attempt run before moving on.
      await eventually(async () => (await queueState(database)).due === 0, 30_000, "due email jobs to run");
      for (const d of resend.deliveries) if (!sentAt.has(d.idempotencyKey!)) sentAt.set(d.idempotencyKey!, moved);
      const t = await tally(database.pool);
      if (t.emailsSent + t.emailsFailed === n) break;
      if (!providerUp && moved >= outage) {
        resend.failNext(0);
        providerUp = true;
        continue;
      }
      const { wait } = await queueState(database);
      if (wait === null) break;
      // Never jump past the provider's return: attempts after it must find it up.
      // Jobs due within 30 s of the earliest go together (a coarser clock, fewer steps for many emails).
      const jump = !providerUp && moved + wait + 30 > outage ? outage - moved : wait + 30;
      await moveQueueClock(database, Math.max(jump, 0) + 0.001);
      moved += Math.max(jump, 0);
    }
    const attemptsDuringOutage = resend.requests.filter((r) => r.answer.status !== 200).length;
    const perEmail = new Map<string, number>();
    for (const r of resend.requests) perEmail.set(r.idempotencyKey!, (perEmail.get(r.idempotencyKey!) ?? 0) + 1);
    const final = await tally(database.pool);
    const times = [...sentAt.values()];
    return {
      emails: n,
      outageMinutes,
      attemptsDuringOutage,
      attemptsPerEmail: { min: Math.min(...perEmail.values()), max: Math.max(...perEmail.values()) },
      sentAtMinute: { first: Math.round(Math.min(...times) / 6) / 10, last: Math.round(Math.max(...times) / 6) / 10 },
      delivered: resend.deliveries.length,
      notOnce: notOnce(resend.deliveries.flatMap((d) => (Array.isArray(d.body.to) ? d.body.to : [d.body.to])), list.map((c) => c.email)),
      failedForGood: final.emailsFailed,
      secondsTotal: (Date.now() - started) / 1000,
    };
  } finally {
    await app?.stop();
    await stripe.stop();
    await resend.stop();
    await database.drop();
  }
}

export type SlowStripeFigures = {
  checkouts: number;
  viaWebhook: number;
  viaReconcile: number;
  stripeCalls: number;
  stripeFailures: number;
  licenses: number;
  licensedSessions: number;
  /** Licenses without exactly one license email queued, events not processed: the half-written (should be 0). */
  licensesWithoutOneEmail: number;
  eventsNotProcessed: number;
  emailsSent: number;
  secondsToConverge: number;
};

/**
 * Stripe's API answering after `latencyMs` and failing every other call: checkouts arrive by webhook, and some
 * only through the reconciliation (their webhook never came). Everything converges; nothing is half-written.
 */
export async function slowFlakyStripe(viaWebhook: number, viaReconcile: number, latencyMs = 5_000): Promise<SlowStripeFigures> {
  const database = await createTestDatabase("slowstripe");
  const stripe = await startFakeStripe();
  const resend = await startFakeResend();
  let app: TestApp | undefined;
  try {
    app = await startApp({
      database,
      env: { STRIPE_SECRET_KEY: "sk_test_slow", STRIPE_API_URL: stripe.url, RESEND_API_KEY: "re_test_slow", RESEND_BASE_URL: resend.url },
    });
    const { priceId } = await setUpCatalog(app);
    const hooked = checkouts(stripe, priceId, viaWebhook);
    const missed = checkouts(stripe, priceId, viaReconcile);
    // Stripe lists every event; only some reached the webhook.
    for (const c of [...hooked, ...missed]) stripe.addEvent(JSON.parse(c.delivery.body));
    stripe.setLatency(latencyMs);
    stripe.setFailEvery(2);
    const started = Date.now();
    const statuses = await deliver([app], hooked, 8);
    if (!statuses.every((s) => s === 200)) throw new Error(`webhooks: ${statuses.join(",")}`);
    const reconcile = await app.post("/api/v1/admin/stripe/reconcile", {}, adminHeaders);
    if (reconcile.status !== 202) throw new Error(`reconcile: ${reconcile.status} ${JSON.stringify(reconcile.body)}`);
    const n = viaWebhook + viaReconcile;
    let lastReconcile = Date.now();
    await eventually(
      async () => {
        const t = await tally(database.pool);
        // A run whose listing failed twice records its error and waits for the next schedule (10 min): ask again,
        // as the schedule would.
        const stored = Object.values(t.events).reduce((a, b) => a + b, 0);
        if (stored < n && Date.now() - lastReconcile > 15_000) {
          lastReconcile = Date.now();
          await app!.post("/api/v1/admin/stripe/reconcile", {}, adminHeaders);
        }
        return t.licensedSessions === n && t.emailsSent === n && (t.events.processed ?? 0) === n;
      },
      240_000,
      "every checkout licensed and mailed",
    );
    const secondsToConverge = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1_000));
    const t = await tally(database.pool);
    const half = (
      await database.pool.query(
        `select count(*)::int as n from licenses l
          where (select count(*) from email_outbox o where o.template = 'license-issued' and o.props->'licenseIds' ? l.id::text) <> 1`,
      )
    ).rows[0].n;
    return {
      checkouts: n,
      viaWebhook,
      viaReconcile,
      stripeCalls: stripe.requests.length,
      stripeFailures: Math.floor(stripe.requests.length / 2),
      licenses: t.licenses,
      licensedSessions: t.licensedSessions,
      licensesWithoutOneEmail: half,
      eventsNotProcessed: Object.entries(t.events).filter(([s]) => s !== "processed").reduce((a, [, v]) => a + v, 0),
      emailsSent: t.emailsSent,
      secondsToConverge,
    };
  } finally {
    await app?.stop();
    await stripe.stop();
    await resend.stop();
    await database.drop();
  }
}

export type RaceFigures = {
  checkouts: number;
  duplicateJobsPerEvent: number;
  expiring: number;
  sweepJobs: number;
  licenses: number;
  licensedSessions: number;
  expired: number;
  expiredAuditRows: number;
  expiredEmails: number;
  emailsSent: number;
  smtpMessages: number;
  /** (recipient, subject) pairs delivered other than once (should be empty). */
  doubled: Record<string, number>;
  jobsPerWorker: number[];
  expectedMails: number;
};

/**
 * Two workers racing the same work: every checkout event queued `1 + duplicates` times, and several sweep runs
 * at once over licenses that lapsed. Row locks and the rows' own state decide; nothing happens twice.
 */
export async function twoWorkersRace(n: number, expiring: number, duplicates = 2, sweeps = 4): Promise<RaceFigures> {
  const database = await createTestDatabase("race");
  const stripe = await startFakeStripe();
  const { startSmtpCatcher } = await import("./smtp-catcher");
  const smtp = await startSmtpCatcher();
  const env = { STRIPE_SECRET_KEY: "sk_test_race", STRIPE_API_URL: stripe.url, SMTP_URL: smtp.url };
  const workers: WorkerProcess[] = [];
  let web: TestApp | undefined;
  try {
    web = await startApp({ database, env: { ...env, WORKER: "off", RATE_LIMIT_IP: "0" } });
    const { priceId } = await setUpCatalog(web);
    // Licenses that will have lapsed when the workers start.
    for (let i = 0; i < expiring; i++) {
      const r = await web.post(
        "/api/v1/admin/licenses",
        { plan: "acme-pro", email: `lapsing-${i}@example.com`, expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
        adminHeaders,
      );
      if (r.status !== 201) throw new Error(`admin license: ${r.status} ${JSON.stringify(r.body)}`);
    }
    await database.pool.query(`update licenses set expires_at = now() - interval '1 day'`);
    // Whatever creating them queued (a key email, if the admin path sends one) counts as well.
    const queuedByAdmin = (await database.pool.query(`select count(*)::int as n from email_outbox`)).rows[0].n as number;
    const list = checkouts(stripe, priceId, n);
    const statuses = await deliver([web], list, 8);
    if (!statuses.every((s) => s === 200)) throw new Error("webhooks refused");
    // The same events queued again, and the sweeps several times, all before any worker runs.
    await database.pool.query(
      `select graphile_worker.add_job('process_stripe_event', json_build_object('eventId', e.id)) from stripe_events e, generate_series(1, $1)`,
      [duplicates],
    );
    await database.pool.query(`select graphile_worker.add_job('sweep_expire', '{}'::json) from generate_series(1, $1)`, [sweeps]);
    const [a, b] = await Promise.all([startWorkerProcess(database.url, env), startWorkerProcess(database.url, env)]);
    workers.push(a!, b!);

    const expectedMails = n + queuedByAdmin + expiring;
    await smtp.waitFor(expectedMails, 120_000);
    await eventually(async () => {
      const t = await tally(database.pool);
      return t.events.processed === n && t.emailsSent === expectedMails;
    }, 60_000, "everything processed");
    await new Promise((r) => setTimeout(r, 1_500));
    const t = await tally(database.pool);
    const q = async (sql: string) => (await database.pool.query(sql)).rows[0].n as number;
    const pairs = smtp.messages.map((m) => `${m.to.join(",")} | ${m.subject}`);
    const counts = new Map<string, number>();
    for (const p of pairs) counts.set(p, (counts.get(p) ?? 0) + 1);
    return {
      checkouts: n,
      duplicateJobsPerEvent: duplicates,
      expiring,
      sweepJobs: sweeps,
      licenses: t.licenses,
      licensedSessions: t.licensedSessions,
      expired: await q(`select count(*)::int as n from licenses where status = 'expired'`),
      expiredAuditRows: await q(`select count(*)::int as n from audit_log where action = 'license.expired'`),
      expiredEmails: await q(`select count(*)::int as n from email_outbox where template = 'license-expired'`),
      emailsSent: t.emailsSent,
      smtpMessages: smtp.messages.length,
      doubled: Object.fromEntries([...counts].filter(([, c]) => c !== 1)),
      jobsPerWorker: workers.map((w) => (w.logs().match(/Completed task/g) ?? []).length),
      expectedMails,
    };
  } finally {
    for (const w of workers) await w.stop();
    await web?.stop();
    await stripe.stop();
    await smtp.stop();
    await database.drop();
  }
}
