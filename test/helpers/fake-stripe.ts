import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { AddressInfo, Socket } from "node:net";
import Stripe from "stripe";
import { TEST_WEBHOOK_SECRET } from "./app";

/**
 * A small fake of the Stripe API that the real stripe SDK talks to (point STRIPE_API_URL at `url`). Objects
 * are built from the shared fixtures (Stripe's own shapes) with ids, status and amounts overridden per test.
 * It records every request, and can be switched "down" to answer 500 or drop connections.
 */

/** In CI the shared folder sits beside the clone. */
export const FIXTURES_DIR = path.resolve(process.cwd(), "..", "shared", "stripe-fixtures");

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

export type FakeRequest = { method: string; path: string; query: URLSearchParams };

export type FakeStripe = {
  url: string;
  requests: FakeRequest[];
  sessions: Map<string, Json>;
  lineItems: Map<string, Json[]>;
  customers: Map<string, Json>;
  /** Newest first, as GET /v1/events lists them. */
  events: Json[];
  /** Largest page the fake serves, whatever `limit` asks: small values exercise auto-pagination. */
  maxPageSize: number;
  /** Stores a session and its line items; returns the session. */
  addCheckoutSession: (over: Json & { email?: string | null }, lineItems: LineItemSpec[]) => Json;
  addCustomer: (over?: Json) => Json;
  addEvent: (event: Json) => void;
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
  const fake = {
    requests: [] as FakeRequest[],
    sessions: new Map<string, Json>(),
    lineItems: new Map<string, Json[]>(),
    customers: new Map<string, Json>(),
    events: [] as Json[],
    maxPageSize: 100,
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
    if (!/^Bearer sk_/.test(req.headers.authorization ?? "")) {
      return stripeError(res, 401, "invalid_request_error", "Invalid API Key provided.");
    }
    if (req.method !== "GET") return stripeError(res, 405, "invalid_request_error", `The fake serves GET only.`);

    let m: RegExpMatchArray | null;
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
      const types = [...u.searchParams].filter(([k]) => k === "type" || /^types\[\d*\]$/.test(k)).map(([, v]) => v);
      const gte = Number(u.searchParams.get("created[gte]") ?? -Infinity);
      const events = fake.events.filter((e) => (types.length === 0 || types.includes(e.type)) && e.created >= gte);
      return page(res, u.pathname, events, u.searchParams);
    }
    return stripeError(res, 404, "invalid_request_error", `Unrecognized request URL (GET: ${u.pathname}).`);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    addCheckoutSession(over: Json & { email?: string | null }, items: LineItemSpec[]) {
      const session = checkoutSessionObject(over);
      fake.sessions.set(session.id, session);
      fake.lineItems.set(session.id, items.map(lineItemObject));
      return session;
    },
    addCustomer(over: Json = {}) {
      const customer = customerObject(over);
      fake.customers.set(customer.id, customer);
      return customer;
    },
    addEvent(event: Json) {
      fake.events.unshift(event);
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
