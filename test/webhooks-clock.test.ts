import { and, eq } from "drizzle-orm";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeDb, db as processDb } from "@/server/db/client";
import { auditLog, emailOutbox, webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from "@/server/db/schema";
import { DAY_MS, setClock } from "@/server/domain/clock";
import { deliverOutboxEmail } from "@/server/domain/mail/deliver";
import { deliverWebhook, MAX_WEBHOOK_ATTEMPTS } from "@/server/domain/webhooks/deliver";
import { emitWebhookEvent } from "@/server/domain/webhooks/emit";
import { createWebhook, rotateWebhookSecret } from "@/server/domain/webhooks/endpoints";
import { sealWebhookSecret } from "@/server/domain/webhooks/signing";
import { resetEnvCache } from "@/server/env";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { claimSeat } from "@/server/domain/licensing/activate";
import { lockLicenseById } from "@/server/domain/licensing/lookup";
import { resetAllDevices } from "@/server/domain/licensing/self-reset";
import { makeLicense } from "./helpers/factories";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";
import { startWebhookReceiver, type WebhookReceiver } from "./helpers/webhook-receiver";

/**
 * What needs a moved clock (server/domain/clock.ts), so it runs the worker's own task body (deliverWebhook) in this
 * process against a real PostgreSQL, a real HTTP receiver and a real SMTP server: the previous secret stops signing
 * after 24 hours, and an endpoint failing for five days is disabled with its operators emailed. Also: the event
 * commits or rolls back with its change, and the address guard holds at delivery time, not only at creation.
 */

const ACTOR = { type: "admin" as const, id: "owner@example.com" };
const OPERATORS = ["ops@example.com", "boss@example.com"];

let database: TestDb;
let receiver: WebhookReceiver;
let smtp: SmtpCatcher;
const db = () => processDb();

beforeAll(async () => {
  database = await createTestDatabase("hooks");
  receiver = await startWebhookReceiver();
  smtp = await startSmtpCatcher();
  await useProcessDatabase(database.url, { WEBHOOK_ALLOW_PRIVATE: "1", ADMIN_EMAILS: OPERATORS.join(","), SMTP_URL: smtp.url });
});
afterEach(() => setClock(undefined));
afterAll(async () => {
  for (const k of ["WEBHOOK_ALLOW_PRIVATE", "ADMIN_EMAILS", "SMTP_URL"]) delete process.env[k];
  resetEnvCache();
  await closeDb();
  await receiver?.stop();
  await smtp?.stop();
  await database?.drop();
});

async function endpoint(path: string, events: readonly ("license.created" | "activation.created" | "activation.deleted")[] = ["license.created"]) {
  return db().transaction((tx) => createWebhook(tx, ACTOR, { url: `${receiver.url}${path}`, events: [...events] }));
}

/** Emits one event in its own transaction and returns its delivery to the endpoint. */
async function emitTo(endpointId: string, data: Record<string, unknown> = { n: Math.random() }) {
  const eventId = await db().transaction((tx) => emitWebhookEvent(tx, "license.created", data));
  const [d] = await db()
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.eventId, eventId!), eq(webhookDeliveries.endpointId, endpointId)));
  expect(d).toBeDefined();
  return d!;
}

describe("webhook secrets and failures over time", () => {
  it("after a rotation the old secret signs beside the new one for 24 hours, then only the new one signs", async () => {
    const t0 = new Date();
    setClock(() => t0);
    const { webhook, secret: oldSecret } = await endpoint("/rotation");
    const { secret: newSecret } = await db().transaction((tx) => rotateWebhookSecret(tx, ACTOR, webhook.id));

    setClock(() => new Date(t0.getTime() + DAY_MS - 60_000));
    const within = await emitTo(webhook.id);
    expect(await deliverWebhook(db(), within.id)).toMatchObject({ outcome: "delivered" });
    const [a] = await receiver.waitFor(1, (r) => r.headers["webhook-id"] === within.eventId);
    expect(new Webhook(oldSecret).verify(a!.body, a!.headers)).toBeTruthy();
    expect(new Webhook(newSecret).verify(a!.body, a!.headers)).toBeTruthy();

    setClock(() => new Date(t0.getTime() + DAY_MS + 60_000));
    const after = await emitTo(webhook.id);
    expect(await deliverWebhook(db(), after.id)).toMatchObject({ outcome: "delivered" });
    const [b] = await receiver.waitFor(1, (r) => r.headers["webhook-id"] === after.eventId);
    expect(b!.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(new Webhook(newSecret).verify(b!.body, b!.headers)).toBeTruthy();
    expect(() => new Webhook(oldSecret).verify(b!.body, b!.headers)).toThrow(WebhookVerificationError);
  });

  it("an endpoint failing every delivery for five days is disabled and each operator emailed once", async () => {
    const { webhook } = await endpoint("/down");
    receiver.always(500, "down for maintenance");
    try {
      const t0 = new Date();
      setClock(() => t0);
      const first = await emitTo(webhook.id);
      const r1 = await deliverWebhook(db(), first.id);
      expect(r1).toMatchObject({ outcome: "retrying", attempts: 1 });
      // The schedule: the first retry 5 s later, on the queue's wall clock.
      if (r1.outcome === "retrying") expect(Math.abs(r1.nextAttemptAt.getTime() - Date.now() - 5_000)).toBeLessThan(2_000);
      let [row] = await db().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, webhook.id));
      expect(row!.failingSince!.getTime()).toBe(t0.getTime());

      setClock(() => new Date(t0.getTime() + 4 * DAY_MS));
      expect(await deliverWebhook(db(), first.id)).toMatchObject({ outcome: "retrying", attempts: 2 });
      [row] = await db().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, webhook.id));
      expect(row!.enabled).toBe(true);

      setClock(() => new Date(t0.getTime() + 5 * DAY_MS + 60_000));
      const second = await emitTo(webhook.id);
      expect(await deliverWebhook(db(), second.id)).toMatchObject({ outcome: "failed", endpointDisabled: true });
      [row] = await db().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, webhook.id));
      expect(row!.enabled).toBe(false);
      expect(row!.disabledReason).toMatch(/failed for 5 days/);
      // Its other pending delivery is not sent again; new events skip it.
      expect(await deliverWebhook(db(), first.id)).toEqual({ outcome: "skipped", reason: "endpoint disabled" });
      const attempts = await db().select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, first.id));
      expect(attempts).toHaveLength(2);
      expect(attempts.every((a) => a.statusCode === 500 && a.responseExcerpt === "down for maintenance")).toBe(true);
      const eventId = await db().transaction((tx) => emitWebhookEvent(tx, "license.created", { after: "disabled" }));
      expect(
        await db().select().from(webhookDeliveries).where(and(eq(webhookDeliveries.eventId, eventId!), eq(webhookDeliveries.endpointId, webhook.id))),
      ).toHaveLength(0);

      const audit = await db().select().from(auditLog).where(eq(auditLog.action, "webhook.disabled"));
      expect(audit.map((a) => a.subjectId)).toEqual([webhook.id]);
      const owed = await db().select().from(emailOutbox).where(eq(emailOutbox.template, "webhook-disabled"));
      expect(owed.map((m) => m.to).sort()).toEqual([...OPERATORS].sort());
      // The send job's own body, through a real SMTP server.
      for (const m of owed) expect(await deliverOutboxEmail(db(), m.id)).toMatchObject({ outcome: "sent" });
      const mail = await smtp.waitFor(2);
      expect(mail.subject).toBe("Webhook endpoint disabled: 127.0.0.1:" + receiver.port);
      expect(mail.text).toContain(`${receiver.url}/down`);
      expect(mail.text).toContain(`/admin/webhooks/${webhook.id}`);
    } finally {
      receiver.always(null);
    }
  });

  it("a delivery gives up after the last attempt of its schedule", async () => {
    const { webhook } = await endpoint("/flaky");
    receiver.always(502, "bad gateway");
    try {
      const d = await emitTo(webhook.id);
      for (let i = 1; i < MAX_WEBHOOK_ATTEMPTS; i++) expect(await deliverWebhook(db(), d.id)).toMatchObject({ outcome: "retrying", attempts: i });
      expect(await deliverWebhook(db(), d.id)).toMatchObject({ outcome: "failed", attempts: MAX_WEBHOOK_ATTEMPTS, endpointDisabled: false });
      expect(await deliverWebhook(db(), d.id)).toEqual({ outcome: "skipped", reason: "failed" });
      // A manual retry still may, and a success clears the endpoint's failure record.
      receiver.always(null);
      expect(await deliverWebhook(db(), d.id, { manual: true })).toMatchObject({ outcome: "delivered" });
      const [row] = await db().select().from(webhookEndpoints).where(eq(webhookEndpoints.id, webhook.id));
      expect(row!.failingSince).toBeNull();
    } finally {
      receiver.always(null);
    }
  });

  it("a change that rolls back leaves no event and no delivery", async () => {
    await endpoint("/rollback");
    const before = (await db().select().from(webhookEvents)).length;
    await expect(
      db().transaction(async (tx) => {
        await makeLicense(tx);
        throw new Error("the change failed after its event was emitted");
      }),
    ).rejects.toThrow("the change failed");
    expect(await db().select().from(webhookEvents)).toHaveLength(before);
    await makeLicense(db());
    expect(await db().select().from(webhookEvents)).toHaveLength(before + 1);
  });

  it("a reset of every device (admin, self-service, Key Commander: one function) reports each removed activation", async () => {
    const { webhook } = await endpoint("/resets", ["activation.created", "activation.deleted"]);
    const { license } = await makeLicense(db(), { maxActivations: 3 });
    await db().transaction(async (tx) => {
      const locked = (await lockLicenseById(tx, license.id))!;
      for (const fingerprint of ["pc-a", "pc-b"]) await claimSeat(tx, locked, new Date(), { fingerprint }, { actor: ACTOR });
    });
    await db().transaction((tx) => resetAllDevices(tx, { id: license.id }, ACTOR, new Date(), { bypassCooldown: true, via: "admin" }));
    const rows = await db()
      .select({ type: webhookEvents.type, payload: webhookEvents.payload })
      .from(webhookDeliveries)
      .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
      .where(eq(webhookDeliveries.endpointId, webhook.id));
    const deleted = rows.filter((r) => r.type === "activation.deleted").map((r) => r.payload.data as Record<string, any>);
    expect(rows.filter((r) => r.type === "activation.created")).toHaveLength(2);
    expect(deleted.map((d) => d.activation.fingerprint).sort()).toEqual(["pc-a", "pc-b"]);
    expect(deleted.every((d) => d.reason === "reset" && d.license.id === license.id && d.license.activations === 0)).toBe(true);
  });

  it("refuses a private address at delivery time too, not only when the endpoint is saved", async () => {
    // An endpoint saved while WEBHOOK_ALLOW_PRIVATE was on (or whose DNS now points inside).
    const [row] = await db()
      .insert(webhookEndpoints)
      .values({ url: `${receiver.url}/inside`, events: ["license.created"], secretCiphertext: sealWebhookSecret(`whsec_${Buffer.alloc(32, 7).toString("base64")}`) })
      .returning();
    process.env.WEBHOOK_ALLOW_PRIVATE = "0";
    resetEnvCache();
    try {
      const eventId = await db().transaction((tx) => emitWebhookEvent(tx, "license.created", { inside: true }));
      const [d] = await db()
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.eventId, eventId!), eq(webhookDeliveries.endpointId, row!.id)));
      const seen = receiver.received.length;
      expect(await deliverWebhook(db(), d!.id)).toMatchObject({ outcome: "retrying" });
      expect(receiver.received.length).toBe(seen);
      const [attempt] = await db().select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, d!.id));
      expect(attempt!.statusCode).toBeNull();
      expect(attempt!.error).toMatch(/127\.0\.0\.1, a private, loopback or reserved address/);
      expect(row!.enabled).toBe(true);
    } finally {
      process.env.WEBHOOK_ALLOW_PRIVATE = "1";
      resetEnvCache();
    }
  });
});
