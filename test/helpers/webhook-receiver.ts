import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request a receiver got: the raw body as sent (signatures are over these bytes) and its headers. */
export type ReceivedWebhook = {
  /** The request's path: endpoints on one receiver tell themselves apart by it. */
  path: string;
  headers: Record<string, string>;
  body: string;
  json: { type: string; timestamp: string; data: any };
  receivedAt: number;
};

export type WebhookReceiver = {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Answer the next requests with these statuses (then 200 again), each with `answer` as its body. */
  failNext: (statuses: number[], answer?: string) => void;
  /** Answer every request with this status from now on (null: back to 200). */
  always: (status: number | null, answer?: string) => void;
  /** Resolves once `n` requests matching `filter` have arrived. */
  waitFor: (n: number, filter?: (r: ReceivedWebhook) => boolean, timeoutMs?: number) => Promise<ReceivedWebhook[]>;
  stop: () => Promise<void>;
};

/** A real HTTP server on 127.0.0.1 that records every webhook it gets and answers as told. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let queue: { status: number; answer: string }[] = [];
  let fixed: { status: number; answer: string } | null = null;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json: ReceivedWebhook["json"];
      try {
        json = JSON.parse(body);
      } catch {
        json = { type: "(not json)", timestamp: "", data: null };
      }
      received.push({ path: req.url ?? "/", headers: req.headers as Record<string, string>, body, json, receivedAt: Date.now() });
      const reply = queue.shift() ?? fixed ?? { status: 200, answer: '{"ok":true}' };
      res.writeHead(reply.status, { "content-type": "text/plain" });
      res.end(reply.answer);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    failNext: (statuses, answer = "receiver says no") => {
      queue = statuses.map((status) => ({ status, answer }));
    },
    always: (status, answer = "receiver is down") => {
      fixed = status === null ? null : { status, answer };
    },
    waitFor: async (n, filter = () => true, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = received.filter(filter);
        if (got.length >= n) return got;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} webhooks (got ${got.length}: ${received.map((r) => r.json.type).join(", ")})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
