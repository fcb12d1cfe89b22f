import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSignInUrl, queueSignInLink } from "@/server/auth/sign-in-link";
import { closeDb } from "@/server/db/client";
import { emailOutbox, licenses, webhookEndpoints } from "@/server/db/schema";
import { revealLicenseKey, sealLicenseKey } from "@/server/domain/licensing/license-key";
import { resealField, SEALED_FIELDS } from "@/server/domain/sealed-fields";
import { createWebhook, rotateWebhookSecret } from "@/server/domain/webhooks/endpoints";
import { openWebhookSecret } from "@/server/domain/webhooks/signing";
import { resetEnvCache } from "@/server/env";
import { createTestDatabase, useProcessDatabase, type TestDb } from "./helpers/db";
import { makeLicense } from "./helpers/factories";

// The reseal's batches against a real PostgreSQL, including a key changed by another transaction mid-reseal
// (`npm run reseal` runs while the app does). test/auth-secret.test.ts runs the command itself against the app.

const A = "reseal-test-secret-a-0123456789abcdef";
const B = "reseal-test-secret-b-0123456789abcdef";
const field = (name: string) => SEALED_FIELDS.find((f) => f.name === name)!;

let database: TestDb;
function secrets(current: string, previous?: string) {
  process.env.AUTH_SECRET = current;
  if (previous) process.env.AUTH_SECRET_PREVIOUS = previous;
  else delete process.env.AUTH_SECRET_PREVIOUS;
  resetEnvCache();
}

beforeAll(async () => {
  database = await createTestDatabase("reseal");
  await useProcessDatabase(database.url, { AUTH_SECRET: A });
});
afterAll(async () => {
  delete process.env.AUTH_SECRET_PREVIOUS;
  resetEnvCache();
  await closeDb();
  await database?.drop();
});

describe("npm run reseal's batches", () => {
  it("reseal every row across several batches, keep the rest of a JSON column, and change nothing the second time", async () => {
    secrets(A);
    const issued = [];
    for (let i = 0; i < 5; i++) issued.push(await makeLicense(database.db));
    const expires = new Date(Date.now() + 3_600_000);
    const queued = await database.db.transaction((tx) =>
      queueSignInLink(tx, { to: "someone@example.com", url: "http://app.test/signin/confirm?token=t", token: "t", expires }),
    );
    secrets(B, A);

    expect(await resealField(database.db, field("licenses.key_ciphertext"), 2)).toMatchObject({ resealed: 5, unreadable: 0 });
    expect(await resealField(database.db, field("email_outbox.props.sealedUrl"), 2)).toEqual({ resealed: 1, current: 0, unreadable: 0 });
    expect((await resealField(database.db, field("licenses.key_ciphertext"), 2)).resealed).toBe(0);

    secrets(B);
    for (const { license, key } of issued) {
      const [row] = await database.db.select().from(licenses).where(eq(licenses.id, license.id));
      expect(revealLicenseKey(row!.keyCiphertext)).toBe(key);
    }
    const [email] = await database.db.select().from(emailOutbox).where(eq(emailOutbox.id, queued!));
    expect(openSignInUrl(email!.props.sealedUrl as string)).toBe("http://app.test/signin/confirm?token=t");
    expect(email!.props.expiresAt).toBe(expires.toISOString());
  });

  it("reseals webhook signing secrets, the current and the one before a rotation", async () => {
    secrets(A);
    const actor = { type: "admin" as const, id: "owner@example.com" };
    const made = await database.db.transaction((tx) => createWebhook(tx, actor, { url: "https://93.184.215.14/hook", events: ["license.created"] }));
    const rotated = await database.db.transaction((tx) => rotateWebhookSecret(tx, actor, made.webhook.id));
    secrets(B, A);
    expect(await resealField(database.db, field("webhook_endpoints.secret_ciphertext"))).toEqual({ resealed: 1, current: 0, unreadable: 0 });
    expect(await resealField(database.db, field("webhook_endpoints.previous_secret_ciphertext"))).toEqual({ resealed: 1, current: 0, unreadable: 0 });
    secrets(B);
    const [row] = await database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, made.webhook.id));
    expect(openWebhookSecret(row!.secretCiphertext)).toBe(rotated.secret);
    expect(openWebhookSecret(row!.previousSecretCiphertext!)).toBe(made.secret);
  });

  it("waits for a key being changed meanwhile instead of writing the old key back over it", async () => {
    secrets(A);
    const { license } = await makeLicense(database.db);
    secrets(B, A);
    const rotated = sealLicenseKey("ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ");

    // Another connection (the app rotating this key) holds the row while the reseal starts.
    const other = await database.pool.connect();
    try {
      await other.query("begin");
      await other.query("select 1 from licenses where id = $1 for update", [license.id]);
      const resealing = resealField(database.db, field("licenses.key_ciphertext"));
      await waitUntilBlocked();
      await other.query("update licenses set key_ciphertext = $1, key_hash = $2 where id = $3", [rotated.keyCiphertext, rotated.keyHash, license.id]);
      await other.query("commit");
      await resealing;
    } finally {
      other.release();
    }
    const [row] = await database.db.select().from(licenses).where(eq(licenses.id, license.id));
    expect(row!.keyCiphertext).toBe(rotated.keyCiphertext);
  });
});

/** Until some session of this database waits on a row lock (the reseal's SELECT ... FOR UPDATE). */
async function waitUntilBlocked() {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await database.db.execute<{ n: number }>(
      sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if (rows[0]!.n > 0) return;
    if (Date.now() > deadline) throw new Error("the reseal never waited for the locked row");
    await new Promise((r) => setTimeout(r, 50));
  }
}
