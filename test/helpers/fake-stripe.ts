import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { AddressInfo, Socket } from "node:net";
import Stripe from "stripe";

/**
 * The webhook secret test apps get (TEST_WEBHOOK_SECRET in ./app.ts), repeated here rather than imported: ./app
 * pulls in vitest, and the fake must also load outside it (test/bench/reconcile.ts). The webhook tests fail if
 * the two ever differ.
 */
const TEST_WEBHOOK_SECRET = "whsec_test_secret_0123456789";

/**
 * A small fake of the Stripe API that the real stripe SDK talks to (point STRIPE_API_URL at `url`). Objects
 * are built from test/fixtures/stripe (Stripe's own shapes) with ids, status and amounts overridden per test.
 * It records every request, can be switched "down" to answer 500 or drop connections, and can hold one answer
 * back (the state it read, sent later) to produce a slow read that returns after a newer one.
 */

/** Stripe's own object and event shapes, kept in the repository (see its README for where they come from). */
export const FIXTURES_DIR = path.resolve(__dirname, "..", "fixtures", "stripe");

type Json = Record<string, any>;

const cache = new Map<string, Json>();
function fixture(rel: string): Json {
  if (!cache.has(rel)) cache.set(rel, JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, rel), "utf8")));
  return structuredClone(cache.get(rel)!);
}
/** A resource straight out of fixtures3.json (for shapes objects/ does not hold, like checkout line items). */
function resource(name: string): Json {
  const all = fixture("fixtures3.json").resources as Json;
  return structuredClone(all[name]);
}

export const randomId = (prefix: string) => `${prefix}_test_${crypto.randomBytes(8).toString("hex")}`;

export type LineItemSpec = { priceId: string; quantity?: number; id?: string; amount?: number };

/** A checkout session: paid and complete unless overridden; `email` fills customer_details.email. */
export function checkoutSessionObject(over: Json & { email?: string | null } = {}): Json {
  const { email = `buyer-${crypto.randomBytes(3).toString("hex")}@example.com`, ...rest } = over;
  const session = fixture("objects/checkout_session.json");
  session.id = randomId("cs");
  session.created = Math.floor(Date.now() / 1000);
  session.status = "complete";
  session.payment_status = "paid";
  session.mode = "payment";
  session.customer = null;
  session.subscription = null;
  session.payment_intent = randomId("pi");
  session.customer_details = { ...session.customer_details, email, name: "Test Buyer" };
  session.amount_total = 1000;
  session.amount_subtotal = 1000;
  session.currency = "usd";
  return { ...session, ...rest };
}

/** A checkout line item (object "item", as GET /v1/checkout/sessions/:id/line_items lists them). */
export function lineItemObject(spec: LineItemSpec): Json {
  const item = resource("item");
  const quantity = spec.quantity ?? 1;
  const unit = spec.amount ?? 1000;
  item.id = spec.id ?? randomId("li");
  item.quantity = quantity;
  item.price = { ...item.price, id: spec.priceId, type: "one_time", recurring: null, unit_amount: unit, unit_amount_decimal: String(unit) };
  item.amount_subtotal = unit * quantity;
  item.amount_total = unit * quantity;
  return item;
}

export function customerObject(over: Json = {}): Json {
  const customer = fixture("objects/customer.json");
  customer.id = randomId("cus");
  customer.email = `buyer-${crypto.randomBytes(3).toString("hex")}@example.com`;
  customer.discount = null;
  return { ...customer, ...over };
}

/** Seconds since the epoch, as Stripe writes times. */
export const unix = (d: Date | number) => Math.floor((typeof d === "number" ? d : d.getTime()) / 1000);

export type SubscriptionSpec = {
  id?: string;
  customer?: string | null;
  status?: string;
  priceId: string;
  quantity?: number;
  itemId?: string;
  periodStart: Date;
  periodEnd: Date;
  cancelAt?: Date | null;
  cancelAtPeriodEnd?: boolean;
  canceledAt?: Date | null;
  endedAt?: Date | null;
  trialStart?: Date | null;
  trialEnd?: Date | null;
  latestInvoice?: string | null;
};

/** A subscription with one item; in this API version the billing period lives on the item. */
export function subscriptionObject(spec: SubscriptionSpec): Json {
  const sub = fixture("objects/subscription.json");
  const id = spec.id ?? randomId("sub");
  const item = sub.items.data[0];
  item.id = spec.itemId ?? randomId("si");
  item.subscription = id;
  item.quantity = spec.quantity ?? 1;
  item.price = { ...item.price, id: spec.priceId };
  item.current_period_start = unix(spec.periodStart);
  item.current_period_end = unix(spec.periodEnd);
  return {
    ...sub,
    id,
    customer: spec.customer ?? null,
    status: spec.status ?? "active",
    items: { ...sub.items, data: [item], url: `/v1/subscription_items?subscription=${id}` },
    billing_cycle_anchor: unix(spec.periodStart),
    start_date: unix(spec.trialStart ?? spec.periodStart),
    created: unix(spec.trialStart ?? spec.periodStart),
    cancel_at: spec.cancelAt ? unix(spec.cancelAt) : null,
    cancel_at_period_end: spec.cancelAtPeriodEnd ?? false,
    canceled_at: spec.canceledAt ? unix(spec.canceledAt) : null,
    ended_at: spec.endedAt ? unix(spec.endedAt) : null,
    trial_start: spec.trialStart ? unix(spec.trialStart) : null,
    trial_end: spec.trialEnd ? unix(spec.trialEnd) : null,
    latest_invoice: spec.latestInvoice ?? null,
    pause_collection: null,
    pending_update: null,
    schedule: null,
  };
}

export type InvoiceSpec = {
  id?: string;
  subscription: string | null;
  subscriptionItem?: string;
  customer?: string | null;
  status?: "draft" | "open" | "paid" | "uncollectible" | "void";
  billingReason?: string;
  amount?: number;
  priceId?: string;
  periodStart: Date;
  periodEnd: Date;
  /** Null: no payment (a $0 trial invoice). */
  paymentIntent?: string | null;
  hostedInvoiceUrl?: string | null;
};

/**
 * An invoice in this API version's shape: the subscription under parent.subscription_details, the period it
 * pays for on its subscription line, and its payments (an includable list) naming the payment intent.
 */
export function invoiceObject(spec: InvoiceSpec): Json {
  const inv = fixture("objects/invoice.json");
  const id = spec.id ?? randomId("in");
  const status = spec.status ?? "paid";
  const amount = spec.amount ?? 2000;
  const paid = status === "paid";
  const line = inv.lines.data[0];
  line.id = randomId("il");
  line.invoice = id;
  line.amount = amount;
  line.subtotal = amount;
  line.period = { start: unix(spec.periodStart), end: unix(spec.periodEnd) };
  line.parent = {
    type: "subscription_item_details",
    invoice_item_details: null,
    subscription_item_details: {
      invoice_item: null,
      proration: false,
      proration_details: { credited_items: null },
      subscription: spec.subscription,
      subscription_item: spec.subscriptionItem ?? randomId("si"),
    },
  };
  line.pricing = { type: "price_details", price_details: { price: spec.priceId ?? randomId("price"), product: "prod_x" }, unit_amount_decimal: String(amount) };
  const pi = spec.paymentIntent === undefined ? randomId("pi") : spec.paymentIntent;
  return {
    ...inv,
    id,
    customer: spec.customer ?? null,
    status,
    billing_reason: spec.billingReason ?? "subscription_cycle",
    amount_due: amount,
    amount_paid: paid ? amount : 0,
    amount_remaining: paid ? 0 : amount,
    total: amount,
    subtotal: amount,
    currency: "usd",
    attempted: status !== "draft",
    hosted_invoice_url: spec.hostedInvoiceUrl === undefined ? `https://invoice.stripe.com/i/${id}` : spec.hostedInvoiceUrl,
    // The invoice's own period is the one before the line's for renewals; nothing should read it.
    period_start: unix(spec.periodStart),
    period_end: unix(spec.periodStart),
    lines: { ...inv.lines, data: [line], has_more: false, url: `/v1/invoices/${id}/lines` },
    parent: {
      type: spec.subscription ? "subscription_details" : "quote_details",
      quote_details: null,
      subscription_details: spec.subscription ? { metadata: {}, subscription: spec.subscription } : null,
    },
    payments: {
      object: "list",
      has_more: false,
      url: `/v1/invoice_payments?invoice=${id}`,
      data: pi
        ? [
            {
              id: randomId("inpay"),
              object: "invoice_payment",
              invoice: id,
              is_default: true,
              livemode: false,
              currency: "usd",
              amount_paid: paid ? amount : null,
              amount_requested: amount,
              created: unix(spec.periodStart),
              status: paid ? "paid" : "open",
              payment: { type: "payment_intent", payment_intent: pi },
              status_transitions: { canceled_at: null, paid_at: paid ? unix(spec.periodStart) : null },
            },
          ]
        : [],
    },
    status_transitions: { ...inv.status_transitions, paid_at: paid ? unix(spec.periodStart) : null },
  };
}

export type ChargeSpec = {
  id?: string;
  paymentIntent: string | null;
  amount?: number;
  amountRefunded?: number;
  disputed?: boolean;
};

export function chargeObject(spec: ChargeSpec): Json {
  const ch = fixture("objects/charge.json");
  const amount = spec.amount ?? 1000;
  const refundedAmount = spec.amountRefunded ?? 0;
  const id = spec.id ?? randomId("ch");
  return {
    ...ch,
    id,
    payment_intent: spec.paymentIntent,
    amount,
    amount_captured: amount,
    amount_refunded: refundedAmount,
    refunded: refundedAmount >= amount,
    captured: true,
    paid: true,
    status: "succeeded",
    disputed: spec.disputed ?? false,
    refunds: { ...ch.refunds, url: `/v1/charges/${id}/refunds` },
    source: null,
  };
}

export function refundObject(spec: { id?: string; charge: string; paymentIntent: string | null; amount: number }): Json {
  const re = fixture("objects/refund.json");
  return { ...re, id: spec.id ?? randomId("re"), charge: spec.charge, payment_intent: spec.paymentIntent, amount: spec.amount, status: "succeeded" };
}

export function disputeObject(spec: { id?: string; charge: string; paymentIntent: string | null; status: string; amount?: number }): Json {
  const dp = fixture("objects/dispute.json");
  return { ...dp, id: spec.id ?? randomId("dp"), charge: spec.charge, payment_intent: spec.paymentIntent, status: spec.status, amount: spec.amount ?? 1000 };
}

/** A Stripe event envelope (from the fixture of that type when there is one) wrapping `object`. */
export function stripeEvent(type: string, object: Json, over: Json = {}): Json {
  const rel = `events/${type}.json`;
  const event = fs.existsSync(path.join(FIXTURES_DIR, rel)) ? fixture(rel) : fixture("objects/event.json");
  event.id = randomId("evt");
  event.type = type;
  event.created = Math.floor(Date.now() / 1000);
  event.api_version = "2026-07-29.dahlia";
  event.data = { object };
  return { ...event, ...over };
}

/** A webhook delivery signed like Stripe signs it; `timestamp` (seconds) lets tests make it stale. */
export function signedWebhook(event: Json | string, opts: { secret?: string; timestamp?: number } = {}) {
  const body = typeof event === "string" ? event : JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({
    payload: body,
    secret: opts.secret ?? TEST_WEBHOOK_SECRET,
    timestamp: opts.timestamp,
  });
  return { body, headers: { "content-type": "application/json", "stripe-signature": signature } };
}

export type FakeRequest = { method: string; path: string; query: URLSearchParams; body?: Json };

/** A price (Stripe's shape): one-time unless `interval` is given. */
export function priceObject(over: { id?: string; unitAmount?: number; currency?: string; interval?: "day" | "week" | "month" | "year" | null; active?: boolean } = {}): Json {
  const price = fixture("objects/price.json");
  const interval = over.interval ?? null;
  return {
    ...price,
    id: over.id ?? randomId("price"),
    active: over.active ?? true,
    currency: over.currency ?? "usd",
    unit_amount: over.unitAmount ?? 1900,
    unit_amount_decimal: String(over.unitAmount ?? 1900),
    type: interval ? "recurring" : "one_time",
    recurring: interval ? { ...price.recurring, interval, interval_count: 1 } : null,
    transform_quantity: null,
  };
}

/** Stripe's form encoding (a[b][0][c]=v) back into an object, as the API reads it. */
export function parseStripeForm(text: string): Json {
  const out: Json = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const parts = key.replace(/\]/g, "").split("[");
    let at: Json = out;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) at[part] = value;
      else at = at[part] ??= /^\d+$/.test(parts[i + 1]!) ? [] : {};
    });
  }
  return out;
}

export type FakeStripe = {
  url: string;
  requests: FakeRequest[];
  sessions: Map<string, Json>;
  lineItems: Map<string, Json[]>;
  customers: Map<string, Json>;
  /** Objects served by GET /v1/<collection>/<id>: subscriptions, invoices, charges, refunds, disputes. */
  objects: Map<string, Json>;
  /** Newest first, as GET /v1/events lists them. */
  events: Json[];
  /** Largest page the fake serves, whatever `limit` asks: small values exercise auto-pagination. */
  maxPageSize: number;
  /** Stores a session and its line items; returns the session. */
  addCheckoutSession: (over: Json & { email?: string | null }, lineItems: LineItemSpec[]) => Json;
  addCustomer: (over?: Json) => Json;
  addEvent: (event: Json) => void;
  /**
   * Stores (or replaces) any object by its id: what the API serves from now on. Checkout sessions and customers
   * go where their routes read them, so a history can move every object forward with one call per object.
   */
  put: <T extends Json>(object: T) => T;
  /**
   * The next GET of `path` is answered with what the fake holds when the request arrives, but the answer is only
   * sent once `release` settles: a read that started first and returns last. `arrived` resolves when it came.
   */
  hold: (path: string, release: Promise<unknown>) => { arrived: Promise<void> };
  /** Marks a customer deleted, as GET /v1/customers/:id then answers. */
  deleteCustomer: (id: string) => void;
  /** Prices served by GET /v1/prices/:id. */
  prices: Map<string, Json>;
  addPrice: (over?: Parameters<typeof priceObject>[0]) => Json;
  /** The bodies of POST /v1/checkout/sessions, in order (what our checkout asked Stripe for). */
  createdSessions: Json[];
  /** The bodies of POST /v1/billing_portal/sessions. */
  portalSessions: Json[];
  /**
   * Marks a session our checkout created as paid, as Stripe would after the buyer paid on its page: payment
   * status, customer details, its line items (from what was asked), a Stripe customer. Returns the session.
   */
  pay: (sessionId: string, email: string) => Json;
  /** false: serve normally; "500": answer every request with a Stripe api_error; "destroy": drop the socket. */
  setDown: (mode: false | "500" | "destroy") => void;
  requestsTo: (pathPrefix: string) => FakeRequest[];
  stop: () => Promise<void>;
};

const stripeError = (res: http.ServerResponse, status: number, type: string, message: string, code?: string) => {
  res.writeHead(status, { "content-type": "application/json", "request-id": randomId("req") });
  res.end(JSON.stringify({ error: { type, message, ...(code ? { code } : {}) } }));
};

export async function startFakeStripe(): Promise<FakeStripe> {
  let down: false | "500" | "destroy" = false;
  const sockets = new Set<Socket>();
  const holds: { path: string; release: Promise<unknown>; arrived: () => void }[] = [];
  const fake = {
    requests: [] as FakeRequest[],
    sessions: new Map<string, Json>(),
    lineItems: new Map<string, Json[]>(),
    customers: new Map<string, Json>(),
    objects: new Map<string, Json>(),
    events: [] as Json[],
    maxPageSize: 100,
    prices: new Map<string, Json>(),
    createdSessions: [] as Json[],
    portalSessions: [] as Json[],
  };
  let baseUrl = "";
  const pay = (sessionId: string, email: string) => {
    const session = fake.sessions.get(sessionId);
    if (!session) throw new Error(`the fake has no session ${sessionId}`);
    const asked = session.__asked as Json;
    const customerId = session.customer ?? randomId("cus");
    if (!fake.customers.has(customerId)) fake.customers.set(customerId, customerObject({ id: customerId, email }));
    Object.assign(session, {
      status: "complete",
      payment_status: "paid",
      customer: customerId,
      customer_details: { ...session.customer_details, email, name: "Test Buyer" },
    });
    fake.lineItems.set(
      sessionId,
      (asked.line_items as Json[]).map((li) => lineItemObject({ priceId: li.price, quantity: Number(li.quantity ?? 1), amount: fake.prices.get(li.price)?.unit_amount })),
    );
    return session;
  };

  const page = (res: http.ServerResponse, url: string, all: Json[], query: URLSearchParams) => {
    const limit = Math.min(Number(query.get("limit") ?? 10) || 10, fake.maxPageSize);
    const after = query.get("starting_after");
    const start = after ? all.findIndex((o) => o.id === after) + 1 : 0;
    const data = all.slice(start, start + limit);
    json(res, { object: "list", url, has_more: start + limit < all.length, data });
  };
  const json = (res: http.ServerResponse, body: unknown) => {
    res.writeHead(200, { "content-type": "application/json", "request-id": randomId("req") });
    res.end(JSON.stringify(body));
  };
  // The answer is built now (from the objects as they are), and written once the release settles.
  const holdAnswer = (res: http.ServerResponse, release: Promise<unknown>) => {
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => http.ServerResponse;
    const end = res.end.bind(res) as (...a: unknown[]) => http.ServerResponse;
    let head: unknown[] = [];
    Object.assign(res, {
      writeHead: (...a: unknown[]) => ((head = a), res),
      end: (...a: unknown[]) => {
        const send = () => {
          writeHead(...head);
          end(...a);
        };
        void release.then(send, send);
        return res;
      },
    });
  };
  const missing = (res: http.ServerResponse, what: string, id: string) =>
    stripeError(res, 404, "invalid_request_error", `No such ${what}: '${id}'`, "resource_missing");

  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://fake");
    fake.requests.push({ method: req.method ?? "GET", path: u.pathname, query: u.searchParams });
    if (down === "destroy") {
      req.socket.destroy();
      return;
    }
    if (down === "500") return stripeError(res, 500, "api_error", "The fake Stripe API is down.");
    // Stripe's hosted checkout page, as small as a test needs: a "Pay" button that pays as pay() does, then
    // sends the browser to the session's success_url.
    const payPage = u.pathname.match(/^\/pay\/([^/]+)$/);
    if (payPage) {
      const id = decodeURIComponent(payPage[1]!);
      const session = fake.sessions.get(id);
      if (!session) return missing(res, "checkout.session", id);
      if (req.method === "POST") {
        let text = "";
        req.on("data", (c) => (text += c));
        req.on("end", () => {
          pay(id, new URLSearchParams(text).get("email") || session.customer_details?.email || "buyer@example.com");
          res.writeHead(303, { location: String(session.success_url).replace("{CHECKOUT_SESSION_ID}", id) });
          res.end();
        });
        return;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(
        `<!doctype html><title>Fake Stripe Checkout</title><h1>Fake Stripe Checkout</h1><form method="post">` +
          `<label>Email <input name="email" type="email" value="${session.customer_details?.email ?? ""}"></label><button>Pay</button></form>`,
      );
      return;
    }
    let m: RegExpMatchArray | null;
    if (!/^Bearer sk_/.test(req.headers.authorization ?? "")) {
      return stripeError(res, 401, "invalid_request_error", "Invalid API Key provided.");
    }
    if (req.method === "POST") {
      let text = "";
      req.on("data", (c) => (text += c));
      req.on("end", () => {
        const body = parseStripeForm(text);
        fake.requests[fake.requests.length - 1]!.body = body;
        if (u.pathname === "/v1/checkout/sessions") {
          fake.createdSessions.push(body);
          const price = fake.prices.get((body.line_items as Json[] | undefined)?.[0]?.price);
          if (!price) return missing(res, "price", String((body.line_items as Json[] | undefined)?.[0]?.price));
          const session = checkoutSessionObject({ email: body.customer_email ?? null });
          Object.assign(session, {
            status: "open",
            payment_status: "unpaid",
            mode: body.mode,
            customer: body.customer ?? null,
            payment_intent: body.mode === "payment" ? session.payment_intent : null,
            success_url: body.success_url,
            cancel_url: body.cancel_url,
            metadata: body.metadata ?? {},
            amount_total: price.unit_amount,
            amount_subtotal: price.unit_amount,
            url: `${baseUrl}/pay/${session.id}`,
          });
          if (!body.customer_email) session.customer_details = null;
          Object.defineProperty(session, "__asked", { value: body, enumerable: false });
          fake.sessions.set(session.id, session);
          return json(res, session);
        }
        if (u.pathname === "/v1/billing_portal/sessions") {
          fake.portalSessions.push(body);
          if (!fake.customers.has(body.customer)) return missing(res, "customer", String(body.customer));
          const portal = fixture("objects/billing_portal_session.json");
          return json(res, { ...portal, id: randomId("bps"), customer: body.customer, return_url: body.return_url, livemode: false, url: `${baseUrl}/billing/${body.customer}` });
        }
        return stripeError(res, 404, "invalid_request_error", `Unrecognized request URL (POST: ${u.pathname}).`);
      });
      return;
    }
    if (req.method !== "GET") return stripeError(res, 405, "invalid_request_error", `The fake serves GET and a few POSTs only.`);
    if ((m = u.pathname.match(/^\/v1\/prices\/([^/]+)$/))) {
      const price = fake.prices.get(decodeURIComponent(m[1]!));
      return price ? json(res, price) : missing(res, "price", m[1]!);
    }
    const held = holds.findIndex((h) => h.path === u.pathname);
    void m;
    if (held >= 0) {
      const [hold] = holds.splice(held, 1);
      holdAnswer(res, hold!.release);
      // Its waiters run after this handler has built the answer below: they see the request in, the state read.
      hold!.arrived();
    }

    if ((m = u.pathname.match(/^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/))) {
      const id = decodeURIComponent(m[1]!);
      if (!fake.sessions.has(id)) return missing(res, "checkout.session", id);
      return page(res, u.pathname, fake.lineItems.get(id) ?? [], u.searchParams);
    }
    if ((m = u.pathname.match(/^\/v1\/checkout\/sessions\/([^/]+)$/))) {
      const session = fake.sessions.get(decodeURIComponent(m[1]!));
      return session ? json(res, session) : missing(res, "checkout.session", m[1]!);
    }
    if ((m = u.pathname.match(/^\/v1\/customers\/([^/]+)$/))) {
      const customer = fake.customers.get(decodeURIComponent(m[1]!));
      return customer ? json(res, customer) : missing(res, "customer", m[1]!);
    }
    if (u.pathname === "/v1/events") {
      // The SDK encodes arrays with indices (types[0]=...).
      const types = new Set([...u.searchParams].filter(([k]) => k === "type" || /^types\[\d*\]$/.test(k)).map(([, v]) => v));
      const bound = (k: string, d: number) => Number(u.searchParams.get(`created[${k}]`) ?? d);
      const [gte, gt, lte, lt] = [bound("gte", -Infinity), bound("gt", -Infinity), bound("lte", Infinity), bound("lt", Infinity)];
      const events = fake.events.filter(
        (e) => (types.size === 0 || types.has(e.type)) && e.created >= gte && e.created > gt && e.created <= lte && e.created < lt,
      );
      return page(res, u.pathname, events, u.searchParams);
    }
    if ((m = u.pathname.match(/^\/v1\/(subscriptions|invoices|charges|refunds|disputes)\/([^/]+)$/))) {
      const kind = { subscriptions: "subscription", invoices: "invoice", charges: "charge", refunds: "refund", disputes: "dispute" }[m[1]!]!;
      const id = decodeURIComponent(m[2]!);
      const object = fake.objects.get(id);
      return object && object.object === kind ? json(res, object) : missing(res, kind, id);
    }
    return stripeError(res, 404, "invalid_request_error", `Unrecognized request URL (GET: ${u.pathname}).`);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    addCheckoutSession(over: Json & { email?: string | null }, items: LineItemSpec[]) {
      const session = checkoutSessionObject(over);
      fake.sessions.set(session.id, session);
      fake.lineItems.set(session.id, items.map(lineItemObject));
      return session;
    },
    addPrice(over: Parameters<typeof priceObject>[0] = {}) {
      const price = priceObject(over);
      fake.prices.set(price.id, price);
      return price;
    },
    pay,
    addCustomer(over: Json = {}) {
      const customer = customerObject(over);
      fake.customers.set(customer.id, customer);
      return customer;
    },
    addEvent(event: Json) {
      fake.events.unshift(event);
    },
    put<T extends Json>(object: T): T {
      const store =
        object.object === "checkout.session" ? fake.sessions : object.object === "customer" ? fake.customers : object.object === "price" ? fake.prices : fake.objects;
      store.set(object.id, object);
      return object;
    },
    hold(path: string, release: Promise<unknown>) {
      let arrived!: () => void;
      const came = new Promise<void>((resolve) => (arrived = resolve));
      holds.push({ path, release, arrived });
      return { arrived: came };
    },
    deleteCustomer(id: string) {
      fake.customers.set(id, { id, object: "customer", deleted: true });
    },
    setDown(mode: false | "500" | "destroy") {
      down = mode;
    },
    requestsTo: (prefix: string) => fake.requests.filter((r) => r.path.startsWith(prefix)),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}
