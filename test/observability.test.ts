import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, TEST_ADMIN_TOKEN, TEST_AUTH_SECRET, TEST_WEBHOOK_SECRET, type TestApp } from "./helpers/app";
import { randomId, signedWebhook, startFakeStripe, stripeEvent, type FakeStripe } from "./helpers/fake-stripe";
import { browserless, signInByEmail } from "./helpers/sign-in";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

const METRICS_TOKEN = "test-metrics-token-0123456789abcdef";
const STRIPE_SECRET_KEY = "sk_test_observability_0123456789";

/** One Prometheus sample's value, by metric name and the labels it must carry (others may follow). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/**
 * The app's output as parsed JSON lines: every line must be one, but for Next's own start-up notes ("✓ Running
 * next.config.mjs", printed by Next when it reads the config file; the image has none). The secret checks read
 * every line, those included.
 */
function jsonLines(raw: string): Array<Record<string, unknown>> {
  return raw
    .split("\n")
    .filter((l) => l.trim() !== "" && !/^\s*[✓⚠▲○] /u.test(l))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${l}`);
      }
    });
}

describe("observability: metrics, readiness, structured logs with nothing secret in them", () => {
  let app: TestApp;
  let stripe: FakeStripe;
  let smtp: SmtpCatcher;
  const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    stripe = await startFakeStripe();
    smtp = await startSmtpCatcher();
    app = await startApp({
      env: {
        STRIPE_SECRET_KEY,
        STRIPE_API_URL: stripe.url,
        SMTP_URL: smtp.url,
        EMAIL_FROM: "Acme <licenses@acme.test>",
        ADMIN_EMAILS: "owner@acme.test",
        METRICS_TOKEN,
        // The most talkative level: nothing secret may show even there.
        LOG_LEVEL: "debug",
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await stripe?.stop();
    await smtp?.stop();
  });

  it("a whole flow (checkout -> key email -> activate -> validate -> sign-in link -> admin call) logs JSON lines with no key, token, link or secret", async () => {
    const priceId = randomId("price");
    expect((await app.post("/api/v1/admin/products", { slug: "obs-editor", name: "Obs Editor" }, admin)).status).toBe(201);
    const plan = await app.post(
      "/api/v1/admin/plans",
      { product: "obs-editor", slug: "obs-pro", name: "Pro", seats: 2, durationDays: null, entitlements: [], stripePriceIds: [priceId] },
      admin,
    );
    expect(plan.status).toBe(201);

    const session = stripe.addCheckoutSession({ email: "ada@example.com" }, [{ priceId, quantity: 1 }]);
    const { body, headers } = signedWebhook(stripeEvent("checkout.session.completed", session));
    expect((await app.post("/api/stripe/webhook", body, headers)).status).toBe(200);
    const mail = await smtp.waitFor(1, 30_000);
    const key = mail.text.match(/[0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){4}/)![0];

    const activated = await app.post("/api/v1/licenses/activate", { key, fingerprint: "obs-laptop" });
    expect(activated.status).toBe(201);
    const valid = await app.post("/api/v1/licenses/validate", { key, fingerprint: "obs-laptop" }, { "x-request-id": "ops-test-request-0001" });
    expect(valid.body).toMatchObject({ valid: true, code: "VALID" });
    expect(valid.headers.get("x-request-id")).toBe("ops-test-request-0001");
    // Not activated on this machine, and a key that does not exist: two more codes.
    expect((await app.post("/api/v1/licenses/validate", { key, fingerprint: "elsewhere" })).body.code).toBe("NOT_ACTIVATED");
    expect((await app.post("/api/v1/licenses/validate", { key: "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE" })).body.code).toBe("NOT_FOUND");

    const client = browserless(app.url);
    const signedIn = await signInByEmail(client, smtp, "owner@acme.test", `${app.url}/admin`);
    const linkMail = smtp.messages.at(-1)!;
    const link = /https?:\/\/\S+/.exec(linkMail.text)![0];

    const listed = await app.get("/api/v1/admin/licenses", admin);
    expect(listed.status).toBe(200);

    Object.assign(secrets, {
      key,
      "key without dashes": key.replaceAll("-", ""),
      "offline token": activated.body.token,
      "sign-in link": link,
      "sign-in link token": signedIn.linkToken,
      "session cookie": signedIn.cookie,
      AUTH_SECRET: TEST_AUTH_SECRET,
      ADMIN_API_TOKEN: TEST_ADMIN_TOKEN,
      STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      STRIPE_SECRET_KEY,
      METRICS_TOKEN,
    });
    // Let the worker's lines (the emails it sent) reach the log too.
    await new Promise((r) => setTimeout(r, 500));

    const raw = app.rawLogs();
    const lines = jsonLines(raw);
    expect(lines.length).toBeGreaterThan(15);
    for (const [what, value] of Object.entries(secrets)) {
      expect(value.length, what).toBeGreaterThan(8);
      const hits = raw.split("\n").filter((l) => l.includes(value));
      expect(hits, `${what} in the log`).toEqual([]);
    }
    // Every line is pino's: a level name, a time and a message.
    for (const line of lines) {
      expect(line).toMatchObject({ level: expect.stringMatching(/^(trace|debug|info|warn|error|fatal)$/), time: expect.any(String), msg: expect.any(String) });
    }
    // The request id we sent is on that request's line; a request without one got one of its own.
    const ours = lines.filter((l) => l.requestId === "ops-test-request-0001");
    expect(ours).toEqual([expect.objectContaining({ msg: "request", route: "/api/v1/licenses/validate", status: 200 })]);
    const requests = lines.filter((l) => l.msg === "request");
    expect(requests.length).toBeGreaterThan(10);
    expect(requests.every((l) => typeof l.requestId === "string" && (l.requestId as string).length >= 8)).toBe(true);
    // Lines written by Next's side (the webhook's route handler) carry the id the door gave the request.
    const hookLine = requests.find((l) => l.route === "/api/stripe/webhook")!;
    expect(lines.filter((l) => l.msg === "[stripe] webhook event accepted")).toEqual([
      expect.objectContaining({ requestId: hookLine.requestId, stored: true, type: "checkout.session.completed" }),
    ]);
    // Route templates, never raw paths: the sign-in callback's token-bearing URL is logged as its route.
    expect(requests.map((l) => l.route)).toContain("/api/auth/[...nextauth]");
  });

  it("an unsafe incoming X-Request-Id is replaced with a fresh one", async () => {
    const res = await fetch(`${app.url}/api/health`, { headers: { "x-request-id": "no spaces <allowed>" } });
    const id = res.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("GET /metrics wants the bearer token and counts validations and activations by code, latency by route template", async () => {
    expect((await app.get("/metrics")).status).toBe(401);
    expect((await app.get("/metrics", { authorization: "Bearer wrong-token-0123456789" })).status).toBe(401);
    const res = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(sample(text, "keystead_validations_total", { code: "VALID" })).toBe(1);
    expect(sample(text, "keystead_validations_total", { code: "NOT_ACTIVATED" })).toBe(1);
    expect(sample(text, "keystead_validations_total", { code: "NOT_FOUND" })).toBe(1);
    expect(sample(text, "keystead_activations_total", { code: "ACTIVATED" })).toBe(1);
    expect(sample(text, "keystead_http_request_duration_seconds_count", { method: "POST", route: "/api/v1/licenses/validate", status: "200" })).toBe(3);
    expect(sample(text, "keystead_http_request_duration_seconds_bucket", { route: "/api/v1/licenses/validate", le: "+Inf" })).toBe(3);
    expect(sample(text, "keystead_http_request_duration_seconds_count", { method: "POST", route: "/api/stripe/webhook" })).toBe(1);
    // Bounded labels: no route label is a raw path with an id or token in it.
    const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
    for (const r of routes) expect(r).toMatch(/^(other|\/_next\/\*|\/[\w\-./[\]]*)$/);
    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
    // Read from the database at scrape time.
    expect(sample(text, "keystead_emails_waiting")).toBe(0);
    expect(sample(text, "keystead_emails_failed")).toBe(0);
    expect(sample(text, "keystead_stripe_events", { status: "processed" })).toBe(1);
    expect(sample(text, "keystead_jobs_waiting")).toBeGreaterThanOrEqual(0);
    expect(text).toContain("# TYPE keystead_jobs_failed_total counter");
    expect(sample(text, "keystead_stripe_webhook_lag_seconds_count")).toBe(1);
  });

  it("GET /api/ready reports database, migrations, worker and queue", async () => {
    const res = await app.get("/api/ready");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, database: "ok", migrations: "ok", worker: "ok", queue: { waiting: expect.any(Number), oldestStripeEventAgeSeconds: null } });
  });
});

describe("observability with WORKER=off, no METRICS_TOKEN and the default LOG_LEVEL", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { WORKER: "off" } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("/metrics is not there, and info is the level: no per-request lines", async () => {
    const res = await app.get("/metrics", { authorization: "Bearer anything-at-all-0123" });
    expect(res.status).toBe(404);
    await app.get("/api/health");
    const lines = jsonLines(app.rawLogs());
    expect(lines.some((l) => String(l.msg).startsWith("[keystead] ready on"))).toBe(true);
    expect(lines.filter((l) => l.msg === "request")).toEqual([]);
  });

  it("/api/ready: no worker heartbeat yet, then the age of a waiting Stripe event, then 503 when a migration is missing", async () => {
    const first = await app.get("/api/ready");
    expect(first).toMatchObject({ status: 200, body: { ok: true, worker: "none", queue: { oldestStripeEventAgeSeconds: null } } });

    // A worker elsewhere beats; a Stripe event has waited two minutes (no worker here processes it).
    await app.database.db.execute(sql`insert into app_state (key, value, updated_at) values ('worker.heartbeat', '{}'::jsonb, now())`);
    await app.database.db.execute(
      sql`insert into stripe_events (id, type, stripe_created_at, payload, received_at) values ('evt_obs_wait', 'checkout.session.completed', now() - interval '3 minutes', '{}'::jsonb, now() - interval '2 minutes')`,
    );
    const waiting = await app.get("/api/ready");
    expect(waiting.status).toBe(200);
    expect(waiting.body.worker).toBe("ok");
    expect(waiting.body.queue.oldestStripeEventAgeSeconds).toBeGreaterThanOrEqual(120);
    expect(waiting.body.queue.oldestStripeEventAgeSeconds).toBeLessThan(600);

    await app.database.db.execute(sql`update app_state set updated_at = now() - interval '5 minutes' where key = 'worker.heartbeat'`);
    expect((await app.get("/api/ready")).body.worker).toBe("stale");

    // This build ships a migration the database has not recorded: not ready.
    await app.database.db.execute(sql`delete from drizzle.__drizzle_migrations where id = (select max(id) from drizzle.__drizzle_migrations)`);
    const behind = await app.get("/api/ready");
    expect(behind.status).toBe(503);
    expect(behind.body).toMatchObject({ ok: false, database: "ok", migrations: "pending" });
    // Liveness is another question: /api/health still answers.
    expect((await app.get("/api/health")).status).toBe(200);
  });
});
