import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** What the real `resend` SDK posted to /emails. */
export type ResendRequest = {
  idempotencyKey: string | null;
  authorization: string | null;
  body: { from: string; to: string | string[]; subject: string; html?: string; text?: string; [k: string]: unknown };
  /** The answer given: the email id, or the status of a refusal. */
  answer: { status: 200; id: string } | { status: number; id?: undefined };
};

export type FakeResend = {
  /** Pass as RESEND_BASE_URL. */
  url: string;
  /** Every POST /emails, answered or refused. */
  requests: ResendRequest[];
  /** Emails actually "delivered": one per idempotency key (requests without a key always deliver). */
  deliveries: ResendRequest[];
  /** Answer the next `count` requests with this status (500 by default), like an outage. */
  failNext: (count: number, status?: number) => void;
  stop: () => Promise<void>;
};

/**
 * A local stand-in for Resend's API that the real SDK talks to (via RESEND_BASE_URL). Like Resend, it honors
 * the Idempotency-Key header: a repeated key answers with the first email's id and delivers nothing new.
 */
export async function startFakeResend(): Promise<FakeResend> {
  const requests: ResendRequest[] = [];
  const deliveries: ResendRequest[] = [];
  const byKey = new Map<string, string>();
  let failing = { count: 0, status: 500 };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "POST" || req.url !== "/emails") {
        return send(404, { statusCode: 404, name: "not_found", message: `No route ${req.method} ${req.url}` });
      }
      let body: ResendRequest["body"];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return send(422, { statusCode: 422, name: "validation_error", message: "Body is not JSON" });
      }
      const idempotencyKey = (req.headers["idempotency-key"] as string | undefined) ?? null;
      const request: ResendRequest = {
        idempotencyKey,
        authorization: req.headers.authorization ?? null,
        body,
        answer: { status: 500 },
      };
      requests.push(request);

      if (failing.count > 0) {
        failing.count--;
        request.answer = { status: failing.status };
        return send(failing.status, {
          statusCode: failing.status,
          name: "internal_server_error",
          message: "The fake Resend is having an outage",
        });
      }
      let id = idempotencyKey ? byKey.get(idempotencyKey) : undefined;
      if (!id) {
        id = crypto.randomUUID();
        if (idempotencyKey) byKey.set(idempotencyKey, id);
        deliveries.push(request);
      }
      request.answer = { status: 200, id };
      send(200, { id });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    deliveries,
    failNext: (count, status = 500) => {
      failing = { count, status };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
