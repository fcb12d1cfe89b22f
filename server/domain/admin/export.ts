import { asc, gt, sql, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Pool } from "pg";
import {
  activations,
  auditLog,
  customers,
  emailOutbox,
  licenses,
  payments,
  planPrices,
  plans,
  products,
  signingKeys,
  stripeCharges,
  stripeEvents,
  stripeLicenseStates,
  stripeSubscriptions,
} from "@/server/db/schema";
import { schema, type Db } from "@/server/db/client";
import { revealLicenseKey } from "@/server/domain/licensing/license-key";

/**
 * The exit plan: everything Keystead knows, as files another system can import.
 *
 * - JSON: every table that matters (the catalog, customers, licenses, activations, Stripe's events and the
 *   facts read from Stripe: subscriptions, payments, charges), license keys revealed (the database alone only holds them sealed with
 *   AUTH_SECRET, which would make a dump useless elsewhere). Signing keys are exported public only: they let
 *   the next system verify offline tokens already handed out, and a private key has no business in a file.
 * - CSV: licenses, one line each, for a spreadsheet or a bulk import.
 *
 * Both are produced as a stream of chunks, a batch of rows at a time by keyset on the primary key, from one
 * REPEATABLE READ snapshot: memory stays flat at a million licenses, and the file is consistent even while
 * customers keep activating.
 */

export const EXPORT_FORMAT = "keystead-export";
export const EXPORT_VERSION = 1;
const BATCH = 1000;

/** Rows of one table in primary-key order, BATCH at a time. */
async function* batches<T extends Record<string, unknown>>(
  fetch: (after: SQL | undefined) => Promise<T[]>,
  keyOf: (row: T) => string | number,
  keyColumn: PgColumn,
): AsyncGenerator<T[]> {
  let after: SQL | undefined;
  for (;;) {
    const rows = await fetch(after);
    if (rows.length) yield rows;
    if (rows.length < BATCH) return;
    after = gt(keyColumn, keyOf(rows[rows.length - 1]!));
  }
}

function plain<T extends PgTable>(db: Db, table: T, key: PgColumn, keyOf: (r: T["$inferSelect"]) => string | number) {
  return batches(
    (after) =>
      db
        .select()
        .from(table as PgTable)
        .where(after)
        .orderBy(asc(key))
        .limit(BATCH) as Promise<T["$inferSelect"][]>,
    keyOf,
    key,
  );
}

/** A license as exported: every column but the sealed key, plus the key itself. */
function exportedLicense(row: typeof licenses.$inferSelect) {
  const { keyCiphertext, ...rest } = row;
  try {
    return { ...rest, key: revealLicenseKey(keyCiphertext) };
  } catch {
    // Sealed under another AUTH_SECRET: the row is still exported, and says why its key is missing.
    return { ...rest, key: null, keyError: "The key cannot be decrypted with this server's AUTH_SECRET." };
  }
}

/** The tables of the JSON export, in an order that satisfies foreign keys on import. */
function jsonTables(db: Db): [name: string, rows: () => AsyncGenerator<Record<string, unknown>[]>][] {
  return [
    ["products", () => plain(db, products, products.id, (r) => r.id)],
    ["plans", () => plain(db, plans, plans.id, (r) => r.id)],
    ["planPrices", () => plain(db, planPrices, planPrices.stripePriceId, (r) => r.stripePriceId)],
    ["customers", () => plain(db, customers, customers.id, (r) => r.id)],
    [
      "licenses",
      async function* () {
        for await (const rows of plain(db, licenses, licenses.id, (r) => r.id)) yield rows.map(exportedLicense);
      },
    ],
    ["activations", () => plain(db, activations, activations.id, (r) => r.id)],
    ["stripeEvents", () => plain(db, stripeEvents, stripeEvents.id, (r) => r.id)],
    ["stripeSubscriptions", () => plain(db, stripeSubscriptions, stripeSubscriptions.id, (r) => r.id)],
    ["payments", () => plain(db, payments, payments.id, (r) => r.id)],
    ["stripeCharges", () => plain(db, stripeCharges, stripeCharges.id, (r) => r.id)],
    ["stripeLicenseStates", () => plain(db, stripeLicenseStates, stripeLicenseStates.licenseId, (r) => r.licenseId)],
    ["emailOutbox", () => plain(db, emailOutbox, emailOutbox.id, (r) => r.id)],
    ["auditLog", () => plain(db, auditLog, auditLog.id, (r) => r.id)],
    [
      "signingKeys",
      async function* () {
        for await (const rows of plain(db, signingKeys, signingKeys.kid, (r) => r.kid)) {
          yield rows.map(({ privateKeyCiphertext: _private, ...publicPart }) => publicPart);
        }
      },
    ],
  ];
}

/**
 * The JSON export as text chunks: `{"format","version","exportedAt","tables":{"products":[…],…}}`, one row
 * per line so a line-oriented tool can also read it.
 */
export async function* exportJson(db: Db, exportedAt: Date = new Date()): AsyncGenerator<string> {
  yield `{"format":${JSON.stringify(EXPORT_FORMAT)},"version":${EXPORT_VERSION},"exportedAt":${JSON.stringify(exportedAt.toISOString())},"tables":{`;
  let firstTable = true;
  for (const [name, rows] of jsonTables(db)) {
    yield `${firstTable ? "" : ","}\n${JSON.stringify(name)}:[`;
    firstTable = false;
    let separator = "";
    for await (const batch of rows()) {
      const lines = batch.map((r) => `\n${JSON.stringify(r)}`);
      yield separator + lines.join(",");
      separator = ",";
    }
    yield "\n]";
  }
  yield "\n}}\n";
}

export const LICENSE_CSV_COLUMNS = [
  "id",
  "key",
  "key_hint",
  "status",
  "status_reason",
  "product",
  "plan",
  "customer_id",
  "customer_email",
  "max_activations",
  "activations",
  "expires_at",
  "source",
  "stripe_checkout_session_id",
  "stripe_subscription_id",
  "stripe_price_id",
  "created_at",
] as const;

/**
 * One CSV cell (RFC 4180). A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a
 * leading apostrophe, as OWASP advises: customer emails and status reasons are text other people typed.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let s = value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Licenses as CSV text chunks (header first), keys revealed. */
export async function* exportLicensesCsv(db: Db): AsyncGenerator<string> {
  yield `${LICENSE_CSV_COLUMNS.join(",")}\r\n`;
  const rows = batches(
    (after) =>
      db
        .select({
          license: licenses,
          product: products.slug,
          plan: plans.slug,
          email: customers.email,
          activations: sql<number>`(select count(*)::int from ${activations} a where a.license_id = ${licenses}.id)`,
        })
        .from(licenses)
        .innerJoin(plans, sql`${plans.id} = ${licenses.planId}`)
        .innerJoin(products, sql`${products.id} = ${plans.productId}`)
        .innerJoin(customers, sql`${customers.id} = ${licenses.customerId}`)
        .where(after)
        .orderBy(asc(licenses.id))
        .limit(BATCH),
    (r) => r.license.id,
    licenses.id,
  );
  for await (const batch of rows) {
    yield batch
      .map(({ license: l, product, plan, email, activations: count }) => {
        const { key } = exportedLicense(l);
        const cells = [
          l.id,
          key,
          l.keyHint,
          l.status,
          l.statusReason,
          product,
          plan,
          l.customerId,
          email,
          l.maxActivations,
          count,
          l.expiresAt,
          l.source,
          l.stripeCheckoutSessionId,
          l.stripeSubscriptionId,
          l.stripePriceId,
          l.createdAt,
        ];
        return `${cells.map(csvCell).join(",")}\r\n`;
      })
      .join("");
  }
}

/**
 * Runs an export inside one read-only REPEATABLE READ transaction on its own connection, so every batch
 * reads the same snapshot. The connection is released when the export ends, fails, or its reader goes away
 * (the stream's cancel returns the generator, which runs the finally).
 */
export async function* inSnapshot(pool: Pool, produce: (db: Db) => AsyncGenerator<string>): AsyncGenerator<string> {
  const client = await pool.connect();
  let done = false;
  try {
    await client.query("begin isolation level repeatable read read only");
    // The snapshot is taken at the first statement, not at BEGIN: take it now, when the download starts.
    await client.query("select 1");
    yield* produce(drizzle({ client, schema }));
    await client.query("commit");
    done = true;
  } finally {
    if (!done) await client.query("rollback").catch(() => undefined);
    client.release();
  }
}

/** A byte stream over text chunks that pulls the next chunk only when the reader wants it (backpressure). */
export function textStream(chunks: AsyncGenerator<string>, onError?: (err: unknown) => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      } catch (err) {
        onError?.(err);
        // A broken file must not look complete: the download fails instead of ending early.
        controller.error(err);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}
