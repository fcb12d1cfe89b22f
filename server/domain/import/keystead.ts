import { count, getTableColumns, sql, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { auditLog, customers, licenses, payments, plans, products, signingKeys, stripeEvents } from "@/server/db/schema";
import type { Db, Tx } from "@/server/db/client";
import { EXPORT_FORMAT, EXPORT_TABLES, EXPORT_VERSION, type ExportTableName } from "@/server/domain/admin/export";
import { AppError } from "@/server/domain/errors";
import { openSealed, seal } from "@/server/domain/secret-box";
import { DAY_MS } from "@/server/domain/clock";
import { env } from "@/server/env";
import type { Refusal } from "./types";

/**
 * The way back in: a Keystead export (version 2, server/domain/admin/export.ts) into an EMPTY instance, losslessly:
 * every row keeps its id and timestamps; licenses keep their key hashes (so every key validates with the same
 * answer) and their sealed keys; signing keys come along, so offline tokens issued before the export verify
 * against this instance's JWKS.
 *
 * Secrets: a sealed export (the default) holds keys sealed under the old instance's AUTH_SECRET. This instance
 * must hold that secret as AUTH_SECRET or AUTH_SECRET_PREVIOUS (then `npm run reseal` moves them); otherwise the
 * import is refused (SEALED_UNDER_ANOTHER_SECRET) before anything is written. A clear export's keys are sealed
 * here under this AUTH_SECRET. A signing key this instance cannot open is still imported, retired: it keeps
 * verifying the tokens it signed (published until they expire) and signs nothing new.
 *
 * All or nothing: one transaction. A refused row refuses the whole file (a dry run lists every one), since a
 * license left out would break the activations, payments and audit rows that point at it.
 */

type Row = Record<string, unknown>;
export type KeysteadDocument = { format: string; version: number; keys: "sealed" | "clear"; tables: Partial<Record<ExportTableName, Row[]>> };

export type KeysteadPreview = {
  counts: Record<string, number>;
  refused: Refusal[];
  /** Signing keys this instance cannot open: imported retired, publish-only. */
  publishOnlySigningKeys: number;
};

export function readKeysteadDocument(text: string): KeysteadDocument {
  let doc: KeysteadDocument;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new AppError("UNREADABLE_IMPORT", "This file is not a Keystead export (it is not JSON).");
  }
  if (!doc || doc.format !== EXPORT_FORMAT || typeof doc.tables !== "object" || !doc.tables) {
    throw new AppError("UNREADABLE_IMPORT", `This file is not a Keystead export (no "format": "${EXPORT_FORMAT}").`);
  }
  if (doc.version !== EXPORT_VERSION) {
    throw new AppError(
      "UNREADABLE_IMPORT",
      `This Keystead export is version ${doc.version}; this instance imports version ${EXPORT_VERSION}. Export again from an instance of this version.`,
    );
  }
  if (doc.keys !== "sealed" && doc.keys !== "clear") throw new AppError("UNREADABLE_IMPORT", 'The export says neither "keys": "sealed" nor "clear".');
  const known = new Set<string>(EXPORT_TABLES.map((t) => t.name));
  const unknown = Object.keys(doc.tables).filter((t) => !known.has(t));
  if (unknown.length) throw new AppError("UNREADABLE_IMPORT", `This export has tables this version does not know: ${unknown.join(", ")}.`);
  return doc;
}

/** The tables that make an instance "not empty" for an import of a whole instance. */
const MUST_BE_EMPTY = { products, plans, customers, licenses, stripeEvents, payments } as const;

export async function assertEmptyInstance(db: Db | Tx) {
  const filled: string[] = [];
  for (const [name, table] of Object.entries(MUST_BE_EMPTY)) {
    const [row] = await db.select({ n: count() }).from(table as PgTable);
    if (row!.n > 0) filled.push(name);
  }
  if (filled.length) {
    throw new AppError(
      "IMPORT_TARGET_NOT_EMPTY",
      `A Keystead export is imported only into an empty instance; this one already has ${filled.join(", ")}. Start from a fresh database.`,
      { tables: filled },
    );
  }
}

const columnsOf = (table: PgTable) => Object.entries(getTableColumns(table)) as [string, PgColumn][];

/**
 * A JSON row (drizzle property names, values as PostgreSQL wrote them) as a row keyed by column name, for
 * jsonb_populate_recordset: PostgreSQL reads each value back itself, so timestamps keep their microseconds.
 * A column this version does not know refuses the row (the import would not be lossless).
 */
function toValues(table: PgTable, name: string, row: Row, index: number, refused: Refusal[]): Row | null {
  const byProp = new Map(columnsOf(table).map(([prop, col]) => [prop, col.name]));
  const out: Row = {};
  const extra: string[] = [];
  for (const [prop, value] of Object.entries(row)) {
    const column = byProp.get(prop);
    if (column) out[column] = value;
    else if (!(name === "licenses" && (prop === "key" || prop === "keyError"))) extra.push(prop);
  }
  if (extra.length) {
    refused.push({ row: index + 1, reason: `${name}: columns this version does not know: ${extra.join(", ")}` });
    return null;
  }
  return out;
}

/** Checks every row of the document without writing: what would be imported, and what refuses the file. */
export function previewKeystead(doc: KeysteadDocument): KeysteadPreview & { values: Map<ExportTableName, Row[]> } {
  const refused: Refusal[] = [];
  const counts: Record<string, number> = {};
  const values = new Map<ExportTableName, Row[]>();
  let publishOnly = 0;
  // How long a retired key must stay published: the longest token the exported plans could have had signed
  // (as offline-token.ts maxOfflineTokenLifetimeSeconds, read from the file instead of the database).
  const lifetimeSeconds = Math.max(
    env().OFFLINE_TOKEN_TTL,
    ...(doc.tables.plans ?? []).map((p) => Math.max(Number(p.offlineTokenTtlSeconds ?? 0), (Number(p.airGappedTtlDays ?? 0) * DAY_MS) / 1000)),
  );
  for (const spec of EXPORT_TABLES) {
    const rows = doc.tables[spec.name] ?? [];
    if (!Array.isArray(rows)) throw new AppError("UNREADABLE_IMPORT", `"tables.${spec.name}" is not a list.`);
    counts[spec.name] = rows.length;
    const out: Row[] = [];
    rows.forEach((row, i) => {
      const v = toValues(spec.table as PgTable, spec.name, row, i, refused);
      if (!v) return;
      if (spec.name === "licenses") {
        if (doc.keys === "clear") {
          if (typeof row.key !== "string" || !row.key) {
            refused.push({ row: i + 1, reason: `licenses: license ${String(row.id)} was exported without its key (${String(row.keyError ?? "no key")})` });
            return;
          }
          v.key_ciphertext = seal("license-key", row.key);
        } else if (typeof row.keyCiphertext !== "string" || safeOpen("license-key", row.keyCiphertext) === "neither") {
          refused.push({
            row: i + 1,
            reason: `licenses: the key of license ${String(row.id)} was sealed under another AUTH_SECRET: set that secret as AUTH_SECRET_PREVIOUS here, or export with keys=clear`,
          });
          return;
        }
      }
      if (spec.name === "signingKeys" && (typeof row.privateKeyCiphertext !== "string" || safeOpen("signing-key", row.privateKeyCiphertext) === "neither")) {
        // Publish-only: it verifies what it signed until those tokens expire, and signs nothing.
        publishOnly++;
        const retiredAt = typeof v.retired_at === "string" ? new Date(v.retired_at) : new Date();
        v.retired_at ??= retiredAt.toISOString();
        v.unpublish_at ??= new Date(retiredAt.getTime() + lifetimeSeconds * 1000).toISOString();
      }
      out.push(v);
    });
    values.set(spec.name, out);
  }
  return { counts, refused, publishOnlySigningKeys: publishOnly, values };
}

function safeOpen(purpose: string, sealed: string) {
  try {
    return openSealed(purpose, sealed).under;
  } catch {
    return "neither" as const;
  }
}

/**
 * Writes the whole document in one transaction. `onProgress` is told how many rows are behind us (it must not
 * use `tx`: progress is shown while the transaction is still open).
 */
export async function importKeystead(db: Db, doc: KeysteadDocument, onProgress?: (processed: number) => Promise<void>) {
  const preview = previewKeystead(doc);
  if (preview.refused.length) {
    const sealed = preview.refused.some((r) => r.reason.includes("another AUTH_SECRET"));
    throw new AppError(
      sealed ? "SEALED_UNDER_ANOTHER_SECRET" : "UNREADABLE_IMPORT",
      `${preview.refused.length} row(s) of this export cannot be imported; nothing was written. First: ${preview.refused[0]!.reason}`,
      { refused: preview.refused.slice(0, 100) },
    );
  }
  let processed = 0;
  await db.transaction(async (tx) => {
    // Two imports at once would both see an empty instance.
    await tx.execute(sql`select pg_advisory_xact_lock(72618)`);
    await assertEmptyInstance(tx);
    for (const spec of EXPORT_TABLES) {
      const rows = preview.values.get(spec.name) ?? [];
      const table = spec.table as PgTable;
      const conflict =
        spec.name === "settings"
          ? sql`on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`
          : spec.name === "signingKeys" || spec.name === "apiTokens" || spec.name === "usageDaily"
            ? sql`on conflict do nothing`
            : sql``;
      for (let i = 0; i < rows.length; i += 1000) {
        const part = rows.slice(i, i + 1000);
        if (spec.name === "auditLog") await insertAuditRows(tx, part);
        else await insertRows(tx, table, part, conflict);
        processed += part.length;
        await onProgress?.(processed);
      }
    }
    await tx.execute(sql`select setval(pg_get_serial_sequence('audit_log', 'id'), greatest((select max(id) from audit_log), 1))`);
  });
  const [{ n: keys } = { n: 0 }] = await db.select({ n: count() }).from(signingKeys);
  return { counts: preview.counts, publishOnlySigningKeys: preview.publishOnlySigningKeys, signingKeysNow: keys };
}

/** One statement for a batch of rows: PostgreSQL parses the JSON into the table's own row type. */
async function insertRows(tx: Tx, table: PgTable, rows: Row[], tail: SQL, returning?: SQL) {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const list = sql.join(
    columns.map((c) => sql.identifier(c)),
    sql`, `,
  );
  return tx.execute<{ id: number }>(
    sql`insert into ${table} (${list}) select ${list} from jsonb_populate_recordset(null::${table}, ${JSON.stringify(rows)}::jsonb) ${tail} ${returning ?? sql``}`,
  );
}

/**
 * Audit rows keep their ids. An "empty" instance may already have a few rows of its own (the token made for
 * this import, say): an imported row whose id is taken gets the next free id instead, and keeps everything else.
 */
async function insertAuditRows(tx: Tx, rows: Row[]) {
  const inserted = await insertRows(tx, auditLog, rows, sql`on conflict do nothing`, sql`returning id`);
  if (inserted.rows.length === rows.length) return;
  const got = new Set(inserted.rows.map((r) => Number(r.id)));
  const rest = rows.filter((r) => !got.has(Number(r.id))).map(({ id: _id, ...r }) => r);
  await tx.execute(sql`select setval(pg_get_serial_sequence('audit_log', 'id'), greatest((select max(id) from audit_log), 1))`);
  if (rest.length) await insertRows(tx, auditLog, rest, sql``);
}
