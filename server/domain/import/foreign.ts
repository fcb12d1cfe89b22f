import crypto from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { activations, appState, customers, licenses, plans, products, type ImportFormat } from "@/server/db/schema";
import type { PgTable } from "drizzle-orm/pg-core";
import type { Db, DbOrTx, Tx } from "@/server/db/client";
import { AppError } from "@/server/domain/errors";
import { lookupKeyHash, sealImportedKey } from "@/server/domain/licensing/license-key";
import type { ForeignLicense, ParsedFile, Refusal } from "./types";

/**
 * Importing licenses from the platforms sellers leave (Lemon Squeezy, Keygen, Gumroad, Polar) into a running
 * instance. The platform's file is parsed (formats/*.ts) into ForeignLicense rows; each row's product or variant is
 * mapped to a plan (the operator's confirmed mapping, else the mapping saved by an earlier import of that
 * platform, else the `plan` given for every unmapped row); then every row is checked before anything is written,
 * so a dry run and the import refuse the same rows for the same reasons.
 *
 * Keys keep working exactly as the customers typed them: a key of another format is stored under the hash of its
 * own normalised text (license-key.ts lookupKeyHash), so the public routes find it with the same one probe.
 *
 * Writing: a batch of rows in one transaction (customers, licenses, activations and the job's progress commit
 * together). Should a batch fail anyway (a key issued meanwhile by another path, say), it is retried one row per
 * transaction: the failing row is refused and rolls back alone, nothing of it half-written.
 */

export const WRITE_BATCH = 1000;

export type PlanChoice = { id: string; slug: string; name: string; product: string; seats: number };

export type ProductMapping = {
  ref: string;
  name: string;
  rows: number;
  /** The plan slug these rows go to; null: unmapped (its rows are refused). */
  plan: string | null;
  /** Where the plan came from: the mapping sent now, the one saved by an earlier import, or the `plan` parameter. */
  mappedBy: "mapping" | "saved" | "plan" | null;
};

export type ReadyRow = ForeignLicense & { keyHash: string; plan: PlanChoice; seats: number };

export type ForeignCounts = {
  rows: number;
  licenses: number;
  activations: number;
  newCustomers: number;
  refused: number;
  /** Licenses with more activations than seats: imported as they are; new activations wait for a free seat. */
  overSeats: number;
};

export type PreparedForeign = {
  ready: ReadyRow[];
  refused: Refusal[];
  counts: ForeignCounts;
  products: ProductMapping[];
  plans: PlanChoice[];
  mapping: Record<string, string>;
};

const mappingKey = (format: ImportFormat) => `import-mapping:${format}`;

export async function savedMapping(db: DbOrTx, format: ImportFormat): Promise<Record<string, string>> {
  const [row] = await db.select({ value: appState.value }).from(appState).where(eq(appState.key, mappingKey(format)));
  return (row?.value as Record<string, string> | undefined) ?? {};
}

export async function saveMapping(tx: DbOrTx, format: ImportFormat, mapping: Record<string, string>) {
  const merged = { ...(await savedMapping(tx, format)), ...mapping };
  await tx
    .insert(appState)
    .values({ key: mappingKey(format), value: merged })
    .onConflictDoUpdate({ target: appState.key, set: { value: merged, updatedAt: new Date() } });
}

async function planChoices(db: DbOrTx): Promise<PlanChoice[]> {
  return db
    .select({ id: plans.id, slug: plans.slug, name: plans.name, product: products.slug, seats: plans.seats })
    .from(plans)
    .innerJoin(products, eq(products.id, plans.productId))
    .orderBy(products.slug, plans.slug);
}

const chunks = <T>(items: T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** Checks every row of a parsed file against the mapping and the database; writes nothing. */
export async function prepareForeign(
  db: DbOrTx,
  format: ImportFormat,
  parsed: ParsedFile,
  opts: { plan?: string; mapping?: Record<string, string> },
): Promise<PreparedForeign> {
  const choices = await planChoices(db);
  const bySlug = new Map(choices.map((p) => [p.slug, p]));
  for (const slug of [opts.plan, ...Object.values(opts.mapping ?? {})]) {
    if (slug !== undefined && slug !== "" && !bySlug.has(slug)) throw new AppError("PLAN_NOT_FOUND", `No plan has the slug "${slug}".`);
  }
  const saved = await savedMapping(db, format);

  // Each foreign product or variant, and the plan its rows go to.
  const products = new Map<string, ProductMapping>();
  for (const l of parsed.licenses) {
    let p = products.get(l.product.ref);
    if (!p) {
      const sent = opts.mapping?.[l.product.ref];
      const earlier = saved[l.product.ref] && bySlug.has(saved[l.product.ref]!) ? saved[l.product.ref] : undefined;
      const plan = sent || earlier || opts.plan || null;
      p = { ref: l.product.ref, name: l.product.name, rows: 0, plan, mappedBy: sent ? "mapping" : earlier ? "saved" : opts.plan ? "plan" : null };
      products.set(l.product.ref, p);
    }
    p.rows++;
  }

  const refused: Refusal[] = [...parsed.refused];
  const candidates: ReadyRow[] = [];
  const firstRowOfKey = new Map<string, number>();
  for (const l of parsed.licenses) {
    const mapped = products.get(l.product.ref)!;
    if (!mapped.plan) {
      refused.push({ row: l.row, reason: `no plan for ${l.product.name} (${l.product.ref}): map it to a plan, or pass plan=<slug>` });
      continue;
    }
    const keyHash = lookupKeyHash(l.key);
    if (!keyHash) {
      refused.push({ row: l.row, reason: "the license key is empty or longer than 255 characters" });
      continue;
    }
    const earlier = firstRowOfKey.get(keyHash);
    if (earlier !== undefined) {
      refused.push({ row: l.row, reason: `the same license key as row ${earlier}` });
      continue;
    }
    const tooLong = l.activations.find((a) => a.fingerprint.length > 512);
    if (tooLong) {
      refused.push({ row: l.row, reason: "an activation's fingerprint is longer than 512 characters" });
      continue;
    }
    firstRowOfKey.set(keyHash, l.row);
    const plan = bySlug.get(mapped.plan)!;
    // One activation per machine: the platform may list a machine twice (two pages of the same answer).
    const seen = new Set<string>();
    const machines = l.activations.filter((a) => (seen.has(a.fingerprint) ? false : (seen.add(a.fingerprint), true)));
    candidates.push({ ...l, activations: machines, keyHash, plan, seats: l.maxActivations ?? plan.seats * l.quantity });
  }

  // Keys already here (imported before, or issued by this instance): refused, never overwritten.
  const existing = new Set<string>();
  for (const part of chunks(candidates.map((c) => c.keyHash), 5000)) {
    const rows = await db.execute<{ key_hash: string }>(sql`select key_hash from ${licenses} where key_hash = any(${sql.param(part)}::text[])`);
    for (const r of rows.rows) existing.add(r.key_hash);
  }
  const ready: ReadyRow[] = [];
  for (const c of candidates) {
    if (existing.has(c.keyHash)) refused.push({ row: c.row, reason: "a license with this key already exists here" });
    else ready.push(c);
  }

  const emails = [...new Set(ready.map((r) => r.email.toLowerCase()))];
  let known = 0;
  for (const part of chunks(emails, 5000)) {
    const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from ${customers} where lower(email) = any(${sql.param(part)}::text[])`);
    known += rows.rows[0]!.n;
  }

  refused.sort((a, b) => a.row - b.row);
  const mapping = Object.fromEntries([...products.values()].filter((p) => p.plan).map((p) => [p.ref, p.plan!]));
  return {
    ready,
    refused,
    counts: {
      rows: parsed.rows,
      licenses: ready.length,
      activations: ready.reduce((n, r) => n + r.activations.length, 0),
      newCustomers: emails.length - known,
      refused: refused.length,
      overSeats: ready.filter((r) => r.activations.length > r.seats).length,
    },
    products: [...products.values()],
    plans: choices,
    mapping,
  };
}

/** Writes rows in one transaction: their customers (found or created by email), licenses and activations. */
async function writeRows(tx: Tx, rows: ReadyRow[]): Promise<{ customers: number; activations: number }> {
  const at = new Date();
  const byEmail = new Map<string, { email: string; name: string | null }>();
  for (const r of rows) if (!byEmail.has(r.email.toLowerCase())) byEmail.set(r.email.toLowerCase(), { email: r.email, name: r.name });
  const people = [...byEmail.values()];
  const created = await tx.execute(sql`
    insert into ${customers} (email, name)
    select * from unnest(${sql.param(people.map((p) => p.email))}::text[], ${sql.param(people.map((p) => p.name))}::text[])
    on conflict (lower(email)) do nothing
    returning id`);
  const ids = await tx.execute<{ id: string; e: string }>(
    sql`select id, lower(email) as e from ${customers} where lower(email) = any(${sql.param([...byEmail.keys()])}::text[])`,
  );
  const customerOf = new Map(ids.rows.map((r) => [r.e, r.id]));

  // Rows as JSON, read by PostgreSQL in one parameter per statement (jsonb_populate_recordset): far less work
  // per row than a multi-row VALUES list of bound parameters (measured with npm run bench:import).
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const licenseRows = rows.map((r) => {
    const sealed = sealImportedKey(r.key);
    return {
      id: crypto.randomUUID(),
      key_hash: r.keyHash,
      key_hint: sealed.keyHint,
      key_ciphertext: sealed.keyCiphertext,
      customer_id: customerOf.get(r.email.toLowerCase())!,
      plan_id: r.plan.id,
      status: r.status,
      max_activations: r.seats,
      expires_at: iso(r.expiresAt),
      source: "import",
      created_at: iso(r.createdAt ?? at),
      updated_at: iso(at),
    };
  });
  await insertJson(tx, licenses, licenseRows);
  const activationRows = rows.flatMap((r, i) =>
    r.activations.map((a) => ({
      license_id: licenseRows[i]!.id,
      fingerprint: a.fingerprint,
      name: a.name,
      platform: a.platform,
      metadata: a.metadata,
      created_at: iso(a.createdAt ?? at),
      last_seen_at: iso(a.lastSeenAt ?? a.createdAt ?? at),
    })),
  );
  if (activationRows.length) await insertJson(tx, activations, activationRows);
  return { customers: created.rowCount ?? 0, activations: activationRows.length };
}

async function insertJson(tx: Tx, table: PgTable, rows: Record<string, unknown>[]) {
  const list = sql.join(
    Object.keys(rows[0]!).map((c) => sql.identifier(c)),
    sql`, `,
  );
  await tx.execute(sql`insert into ${table} (${list}) select ${list} from jsonb_populate_recordset(null::${table}, ${JSON.stringify(rows)}::jsonb)`);
}

const rowError = (err: unknown) => {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e.code === "23505" && e.constraint?.includes("key_hash")) return "a license with this key already exists here";
  if (err instanceof AppError) return err.message;
  return "the row could not be written";
};

export type WriteOutcome = { licenses: number; activations: number; newCustomers: number; refused: Refusal[] };

/**
 * Writes the ready rows from `from` on, a batch per transaction; `onBatch` runs inside each batch's transaction
 * (the job's progress commits with its rows).
 */
export async function writeForeign(
  db: Db,
  ready: ReadyRow[],
  opts: { from?: number; onBatch?: (tx: Tx, done: number, outcome: WriteOutcome) => Promise<void> } = {},
): Promise<WriteOutcome> {
  const outcome: WriteOutcome = { licenses: 0, activations: 0, newCustomers: 0, refused: [] };
  for (let start = opts.from ?? 0; start < ready.length; start += WRITE_BATCH) {
    const batch = ready.slice(start, start + WRITE_BATCH);
    const done = Math.min(start + WRITE_BATCH, ready.length);
    try {
      await db.transaction(async (tx) => {
        const w = await writeRows(tx, batch);
        const next = { ...outcome, licenses: outcome.licenses + batch.length, activations: outcome.activations + w.activations, newCustomers: outcome.newCustomers + w.customers };
        await opts.onBatch?.(tx, done, next);
        Object.assign(outcome, next);
      });
    } catch {
      // One row per transaction: the row that fails is refused and rolls back alone.
      for (const row of batch) {
        try {
          const w = await db.transaction((tx) => writeRows(tx, [row]));
          outcome.licenses++;
          outcome.activations += w.activations;
          outcome.newCustomers += w.customers;
        } catch (err) {
          outcome.refused.push({ row: row.row, reason: rowError(err) });
        }
      }
      await db.transaction((tx) => opts.onBatch?.(tx, done, outcome) ?? Promise.resolve());
    }
  }
  return outcome;
}
