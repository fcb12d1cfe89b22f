import { asc, getTableColumns, gt, sql, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Pool } from "pg";
import { z } from "zod";
import {
  activations,
  apiTokens,
  appState,
  licenseNotices,
  usageDaily,
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
 * The way out: everything Keystead knows, as files another Keystead (or another system) can import.
 *
 * - JSON (version 2): one document holding every table that matters: the catalog, customers, licenses, activations,
 *   Stripe's events and the facts read from Stripe (subscriptions, payments, charges, license states), the email
 *   outbox's status, the audit log, API tokens (hashed), usage counters, settings (app_state) and the signing keys.
 *   License keys are exported as the operator chooses: `keys: "sealed"` (the default) keeps each key sealed under
 *   AUTH_SECRET, as stored, so the file alone reveals no key; `keys: "clear"` writes them in the clear (for
 *   another system, or a new instance with another secret). Signing keys are always exported sealed: an instance
 *   with the same AUTH_SECRET keeps signing with them, and any instance can publish them so offline tokens already
 *   in customers' hands keep verifying (server/domain/import/keystead.ts).
 * - CSV: licenses, one line each, for a spreadsheet or a bulk import.
 *
 * Both are produced as a stream of chunks, a batch of rows at a time by keyset on the primary key, from one
 * REPEATABLE READ snapshot: memory stays flat at a million licenses, and the file is consistent even while
 * customers keep activating.
 */

export const EXPORT_FORMAT = "keystead-export";
export const EXPORT_VERSION = 2;
export const ExportKeysMode = z.enum(["sealed", "clear"]);
export type ExportKeysMode = z.infer<typeof ExportKeysMode>;
/** GET /api/v1/admin/export (scope admin): `?keys=clear|sealed`, default sealed. */
export const ExportQuery = z.object({ keys: ExportKeysMode.default("sealed") });
/** The document GET /api/v1/admin/export streams (for the OpenAPI description; rows are each table's columns). */
export const ExportDocument = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  exportedAt: z.string(),
  keys: ExportKeysMode,
  tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
});
const BATCH = 1000;

/** Rows of one table in primary-key order, BATCH at a time. */
async function* batches<T extends Record<string, unknown>>(
  fetch: (after: SQL | undefined) => Promise<T[]>,
  keyOf: (row: T) => unknown,
  keyColumns: PgColumn[],
): AsyncGenerator<T[]> {
  let after: SQL | undefined;
  for (;;) {
    const rows = await fetch(after);
    if (rows.length) yield rows;
    if (rows.length < BATCH) return;
    const last = keyOf(rows[rows.length - 1]!);
    after =
      keyColumns.length === 1
        ? gt(keyColumns[0]!, last)
        : sql`(${sql.join(keyColumns, sql`, `)}) > (${sql.join((last as unknown[]).map((v) => sql`${v}`), sql`, `)})`;
  }
}

/**
 * The tables of the export, in an order that satisfies foreign keys on import, each with its primary key (the
 * keyset order). The import reads this same list (server/domain/import/keystead.ts).
 */
export const EXPORT_TABLES = [
  { name: "products", table: products, key: [products.id] },
  { name: "plans", table: plans, key: [plans.id] },
  { name: "planPrices", table: planPrices, key: [planPrices.stripePriceId] },
  { name: "customers", table: customers, key: [customers.id] },
  { name: "licenses", table: licenses, key: [licenses.id] },
  { name: "activations", table: activations, key: [activations.id] },
  { name: "stripeEvents", table: stripeEvents, key: [stripeEvents.id] },
  { name: "stripeSubscriptions", table: stripeSubscriptions, key: [stripeSubscriptions.id] },
  { name: "payments", table: payments, key: [payments.id] },
  { name: "stripeCharges", table: stripeCharges, key: [stripeCharges.id] },
  { name: "stripeLicenseStates", table: stripeLicenseStates, key: [stripeLicenseStates.licenseId] },
  { name: "emailOutbox", table: emailOutbox, key: [emailOutbox.id] },
  { name: "licenseNotices", table: licenseNotices, key: [licenseNotices.licenseId, licenseNotices.kind, licenseNotices.forDate] },
  { name: "auditLog", table: auditLog, key: [auditLog.id] },
  { name: "apiTokens", table: apiTokens, key: [apiTokens.id] },
  { name: "usageDaily", table: usageDaily, key: [usageDaily.day, usageDaily.metric] },
  { name: "settings", table: appState, key: [appState.key] },
  { name: "signingKeys", table: signingKeys, key: [signingKeys.kid] },
] as const satisfies readonly { name: string; table: PgTable; key: PgColumn[] }[];

export type ExportTableName = (typeof EXPORT_TABLES)[number]["name"];


/** Column name -> drizzle property name, for a table. */
export function propertyNames(table: PgTable): Map<string, string> {
  return new Map(Object.entries(getTableColumns(table)).map(([prop, col]) => [col.name, prop]));
}

/**
 * Rows as PostgreSQL itself writes them to JSON (to_jsonb): timestamps keep their microseconds and every value its
 * exact text, which drizzle's Date mapping would round to milliseconds. Keyed by the drizzle property names.
 */
function rowsOf(db: Db, spec: (typeof EXPORT_TABLES)[number]) {
  const table = spec.table as PgTable;
  const keys = [...spec.key] as PgColumn[];
  const props = propertyNames(table);
  const keyNames = keys.map((k) => k.name);
  return batches(
    async (after) => {
      const result = await db.execute<{ r: Record<string, unknown> }>(
        sql`select to_jsonb(${table}) as r from ${table} ${after ? sql`where ${after}` : sql``} order by ${sql.join(keys, sql`, `)} limit ${BATCH}`,
      );
      return result.rows.map(({ r }) => {
        const out: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(r)) out[props.get(name) ?? name] = value;
        return out;
      });
    },
    (r) => (keyNames.length === 1 ? r[props.get(keyNames[0]!)!] : keyNames.map((n) => r[props.get(n)!])),
    keys,
  );
}

/** A license as exported with keys in the clear: every column but the sealed key, plus the key itself. */
function clearLicense(row: Record<string, unknown>) {
  const { keyCiphertext, ...rest } = row as typeof licenses.$inferSelect;
  try {
    return { ...rest, key: revealLicenseKey(keyCiphertext) };
  } catch {
    // Sealed under another AUTH_SECRET: the row is still exported, and says why its key is missing.
    return { ...rest, key: null, keyError: "The key cannot be decrypted with this server's AUTH_SECRET." };
  }
}

/** Rows of each table as written to the file, in batches. */
function exportedRows(db: Db, spec: (typeof EXPORT_TABLES)[number], keys: ExportKeysMode) {
  const rows = rowsOf(db, spec);
  if (spec.name !== "licenses" || keys === "sealed") return rows;
  return (async function* () {
    for await (const batch of rows) yield batch.map(clearLicense);
  })();
}

/**
 * The JSON export as text chunks: `{"format","version","exportedAt","keys","tables":{"products":[…],…}}`, one row
 * per line so a line-oriented tool can also read it.
 */
export async function* exportJson(db: Db, opts: { keys?: ExportKeysMode; exportedAt?: Date } = {}): AsyncGenerator<string> {
  const keys = opts.keys ?? "sealed";
  const exportedAt = opts.exportedAt ?? new Date();
  yield `{"format":${JSON.stringify(EXPORT_FORMAT)},"version":${EXPORT_VERSION},"exportedAt":${JSON.stringify(exportedAt.toISOString())},"keys":${JSON.stringify(keys)},"tables":{`;
  let firstTable = true;
  for (const spec of EXPORT_TABLES) {
    yield `${firstTable ? "" : ","}\n${JSON.stringify(spec.name)}:[`;
    firstTable = false;
    let separator = "";
    for await (const batch of exportedRows(db, spec, keys)) {
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
    [licenses.id],
  );
  for await (const batch of rows) {
    yield batch
      .map(({ license: l, product, plan, email, activations: count }) => {
        const { key } = clearLicense(l);
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
