import http from "node:http";
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, startApp, type TestApp } from "./helpers/app";
import { checkouts, setUpCatalog, startWorkerProcess, tally } from "./helpers/cluster";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { startFakeStripe, type FakeStripe } from "./helpers/fake-stripe";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

/**
 * SIGTERM (a deploy, a scale-in): the process stops taking connections, answers every request it already has,
 * lets a running job finish, and exits 0. What a running job enqueued waits in the queue for the next worker.
 */

/** A POST whose body is still on its way: sent up to `half`, the rest when `finish()` is called. */
function slowPost(port: number, path: string, body: string) {
  const half = Math.floor(body.length / 2);
  let finish!: () => void;
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path, method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.write(body.slice(0, half));
    finish = () => req.end(body.slice(half));
  });
  return { answered, finish: () => finish() };
}

describe("graceful shutdown", () => {
  let database: TestDb;
  let stripe: FakeStripe;
  let smtp: SmtpCatcher;
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const a of apps) await a.stop();
    await stripe?.stop();
    await smtp?.stop();
    await database?.drop();
  });

  it("answers every request in flight at SIGTERM, finishes the running job, and exits 0", async () => {
    database = await createTestDatabase("shutdown");
    stripe = await startFakeStripe();
    smtp = await startSmtpCatcher();
    const env = { STRIPE_SECRET_KEY: "sk_test_shutdown", STRIPE_API_URL: stripe.url, SMTP_URL: smtp.url };
    const app = await startApp({ database, env });
    apps.push(app);
    const { priceId } = await setUpCatalog(app);

    // A job running at SIGTERM: the checkout's processing waits on Stripe's answer until we release it.
    const [checkout] = checkouts(stripe, priceId, 1);
    let release!: () => void;
    const held = stripe.hold(`/v1/checkout/sessions/${checkout!.sessionId}`, new Promise<void>((r) => (release = r)));
    expect((await app.post("/api/stripe/webhook", checkout!.delivery.body, checkout!.delivery.headers)).status).toBe(200);
    await held.arrived;

    // 40 requests in flight: connected, half their body sent.
    const inFlight = Array.from({ length: 40 }, (_, i) =>
      slowPost(app.port, "/api/v1/licenses/validate", JSON.stringify({ key: "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", fingerprint: `machine-${i}` })),
    );
    await new Promise((r) => setTimeout(r, 300));
    const signalled = Date.now();
    const stopped = app.stop("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));

    // No new connection is taken...
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(app.port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve("connected")));
      socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
    // ...but every request already in flight is answered, as it would have been.
    for (const r of inFlight) r.finish();
    const answers = await Promise.all(inFlight.map((r) => r.answered));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(answers.every((a) => JSON.parse(a.body).code === "NOT_FOUND")).toBe(true);

    // The running job finishes: its license is issued before the process exits.
    await new Promise((r) => setTimeout(r, 500));
    release();
    await stopped;
    expect(app.exit()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(15_000);
    const after = await tally(database.pool);
    expect(after).toMatchObject({ licenses: 1, events: { processed: 1 } });

    // The email that job queued waits for the next worker, and goes once.
    expect(smtp.messages).toHaveLength(0);
    const next = await startApp({ database, env });
    apps.push(next);
    await smtp.waitFor(1, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.to).toEqual([checkout!.email]);
  });

  it("a burst racing SIGTERM: every request gets an answer or a refused connection, none is cut off", async () => {
    const app = await startApp({ database, env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
    apps.push(app);
    const results: ("answered" | "refused" | "lost")[] = [];
    const why: string[] = [];
    let sent = 0;
    const lane = async () => {
      while (sent < 600) {
        sent++;
        try {
          const res = await fetch(`${app.url}/api/v1/licenses/validate`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ key: "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA" }),
          });
          const body = await res.json();
          const ok = res.status === 200 && body.code === "NOT_FOUND";
          if (!ok) why.push(`${res.status} ${JSON.stringify(body)}`);
          results.push(ok ? "answered" : "lost");
        } catch (err) {
          const cause = (err as { cause?: { code?: string; syscall?: string; message?: string } }).cause;
          // Refused at connect: nothing was sent. A connection still in the kernel's accept queue when the socket
          // closes is reset during connect (syscall "connect"): it never reached the server either.
          const refused = cause?.code === "ECONNREFUSED" || (cause?.code === "ECONNRESET" && cause.syscall === "connect");
          if (!refused) why.push(`${cause?.code} ${(err as Error).message} ${cause?.message}`);
          results.push(refused ? "refused" : "lost");
          if (refused) return;
        }
      }
    };
    const lanes = Array.from({ length: 16 }, lane);
    await eventually(async () => results.length >= 100, 20_000, "the burst to be under way");
    await app.stop("SIGTERM");
    await Promise.all(lanes);
    expect(app.exit()).toEqual({ code: 0, signal: null });
    const count = (k: string) => results.filter((r) => r === k).length;
    console.log(`[shutdown] burst racing SIGTERM: ${count("answered")} answered, ${count("refused")} refused at connect, ${count("lost")} lost`);
    expect(why.slice(0, 5)).toEqual([]);
    expect(count("lost")).toBe(0);
    expect(count("answered")).toBeGreaterThanOrEqual(100);
  });

  it("npm run worker: SIGTERM lets the running job finish and exits 0", async () => {
    // Only this test's worker may take the job.
    for (const a of apps) await a.stop();
    const app = await startApp({ database, env: { WORKER: "off" } });
    apps.push(app);
    const [checkout] = checkouts(stripe, (await database.pool.query(`select stripe_price_id from plan_prices limit 1`)).rows[0].stripe_price_id, 1);
    let release!: () => void;
    const held = stripe.hold(`/v1/checkout/sessions/${checkout!.sessionId}`, new Promise<void>((r) => (release = r)));
    const worker = await startWorkerProcess(database.url, { STRIPE_SECRET_KEY: "sk_test_shutdown", STRIPE_API_URL: stripe.url, SMTP_URL: smtp.url });
    expect((await app.post("/api/stripe/webhook", checkout!.delivery.body, checkout!.delivery.headers)).status).toBe(200);
    await held.arrived;
    const stopping = worker.stop("SIGTERM");
    await new Promise((r) => setTimeout(r, 1_000));
    expect(worker.exit()).toBeUndefined();
    release();
    expect(await stopping).toEqual({ code: 0, signal: null });
    expect((await tally(database.pool)).licenses).toBe(2);
  });
});
