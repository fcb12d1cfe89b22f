import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { activations, customers, LICENSE_STATUSES, licenses, plans, products, type LicenseStatus } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { storable, storableText } from "@/server/domain/admin/text";
import { hashLicenseKey, normalizeLicenseKey } from "@/server/domain/licensing/license-key";
import { loadLicenseRows, rowStatus } from "@/server/domain/licensing/view";
import { now } from "@/server/domain/clock";
import { effectiveStatusSql, statusBranch, type StatusAlternative } from "@/server/domain/licensing/expiry";
import { CursorInput, decodeCursor, isShortText, isTimestampText, isUuid, LimitInput, page } from "./cursor";

/**
 * License search for the admin app. One box takes whatever the operator has at hand: a full key (found by its
 * hash), the hint shown everywhere ("…-ABCDE", the key's last five characters), the start of an email, a
 * machine fingerprint (exact), or a license / customer id. Filters narrow by status, product and plan.
 *
 * Each way of reading the query is its own small index-backed query, cut at one page in the list's order; the
 * pages are then merged. An OR across them would defeat every index (a sub-select inside an OR becomes a scan
 * of all licenses); a UNION of LIMITed branches keeps each one an index scan, and the first page of the union
 * is exactly the first page of the merged list, so keyset pagination still holds.
 *
 * Indexes (server/db/schema): licenses_key_hash (unique), licenses_key_hint_idx, customers_email_prefix_idx
 * (lower(email) text_pattern_ops), activations_fingerprint_idx, licenses_customer_idx; for the plain listing
 * licenses_created_idx, licenses_plan_created_idx and licenses_status_created_idx.
 */

export const LICENSE_SEARCH_FIELDS = ["auto", "key", "email", "fingerprint", "customer"] as const;
export type LicenseSearchField = (typeof LICENSE_SEARCH_FIELDS)[number];

export const SearchLicensesInput = z.object({
  /** What the operator typed; empty lists every license. */
  q: z.string().trim().max(320).refine(storable, "must not contain NUL characters or unpaired surrogates").optional(),
  /** "auto" reads the query every way that fits it; the others read it one way only. */
  field: z.enum(LICENSE_SEARCH_FIELDS).default("auto"),
  status: z.enum(LICENSE_STATUSES).optional(),
  /** Product slug. */
  product: storableText(1, 64).optional(),
  /** Plan slug. */
  plan: storableText(1, 64).optional(),
  customerId: z.uuid().optional(),
  cursor: CursorInput.optional(),
  limit: LimitInput(100, 25),
});
export type SearchLicensesInput = z.input<typeof SearchLicensesInput>;

/** One way the query was read; the page says which, so the operator knows what matched. */
export type SearchReading =
  | { by: "key" }
  | { by: "hint"; hint: string }
  | { by: "email"; prefix: string }
  | { by: "fingerprint"; fingerprint: string }
  | { by: "id"; id: string };

/** A license as the admin lists show it. */
export type AdminLicenseRow = {
  id: string;
  keyHint: string;
  status: LicenseStatus;
  statusReason: string | null;
  product: { slug: string; name: string };
  plan: { id: string; slug: string; name: string };
  customer: { id: string; email: string };
  maxActivations: number;
  activations: number;
  expiresAt: string | null;
  source: string;
  createdAt: string;
};

const HINT_MASK = /^[\s•·…*.\-]+/;

/** "…-abcde", "ABCDE", "-AbCdE": the five characters of a displayed hint, canonical; null if it cannot be one. */
export function parseKeyHint(q: string): string | null {
  const stripped = q.replace(HINT_MASK, "").trim();
  if (stripped.length !== 5) return null;
  const upper = stripped.toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");
  return /^[0-9A-HJKMNP-TV-Z]{5}$/.test(upper) ? upper : null;
}

/** Escapes LIKE's wildcards so "a_b%" matches those characters, not any. */
export const likePrefix = (s: string) => `${s.toLowerCase().replace(/[\\%_]/g, "\\$&")}%`;

/** The ways a query is read for a field (empty: nothing can match). */
export function readQuery(q: string, field: LicenseSearchField): SearchReading[] {
  const key = normalizeLicenseKey(q);
  const hint = parseKeyHint(q);
  switch (field) {
    case "key":
      if (key) return [{ by: "key" }];
      return hint ? [{ by: "hint", hint }] : [];
    case "email":
      return [{ by: "email", prefix: q }];
    case "fingerprint":
      return [{ by: "fingerprint", fingerprint: q }];
    case "customer":
      return isUuid(q) ? [{ by: "id", id: q }] : [{ by: "email", prefix: q }];
    case "auto": {
      // A whole key or an id is unambiguous; anything else may be several things at once.
      if (key) return [{ by: "key" }];
      if (isUuid(q)) return [{ by: "id", id: q.toLowerCase() }];
      const readings: SearchReading[] = [];
      if (hint) readings.push({ by: "hint", hint });
      if (!/\s/.test(q)) readings.push({ by: "email", prefix: q });
      readings.push({ by: "fingerprint", fingerprint: q });
      return readings;
    }
  }
}

const NO_ROWS = { data: [] as AdminLicenseRow[], nextCursor: null };

/**
 * The admin's license search (tRPC licenses.search). Without a query: every license, newest first. With one:
 * the licenses matching any reading of it, ordered by the customer's email (A to Z, as an address book), then
 * newest first within each customer.
 *
 * Why not newest first for a query too: an email prefix such as "j" can match a hundred thousand customers,
 * and "the newest 25 of those" means either sorting them all or walking every license newest first until 25
 * match, which takes seconds when the matches are old (measured: 7 s at 1,000,000 licenses). In email order
 * the prefix index hands customers over already sorted, and a page costs one index range plus a few license
 * lookups, however broad the prefix (an Incremental Sort puts each customer's licenses newest first).
 */
export async function searchLicenses(tx: DbOrTx, rawInput: SearchLicensesInput) {
  const input = SearchLicensesInput.parse(rawInput);
  const q = input.q ?? "";
  const readings = q ? readQuery(q, input.field) : [];
  if (q && readings.length === 0) return { ...NO_ROWS, readings };

  // The plans the filters allow, resolved first: a product is a handful of plans, and one index-backed branch
  // per plan (licenses_plan_created_idx) beats one query that must sort all of a product's licenses.
  let planIds: string[] | null = null;
  if (input.plan || input.product) {
    const conditions: SQL[] = [];
    if (input.plan) conditions.push(sql`p.slug = ${input.plan}`);
    if (input.product) conditions.push(sql`pr.slug = ${input.product}`);
    const found = await tx.execute<{ id: string }>(
      sql`select p.id from ${plans} p join ${products} pr on pr.id = p.product_id where ${sql.join(conditions, sql` and `)}`,
    );
    planIds = found.rows.map((r) => r.id);
    if (planIds.length === 0) return { ...NO_ROWS, readings };
  }
  const filters: SQL[] = [];
  if (input.customerId) filters.push(sql`l.customer_id = ${input.customerId}::uuid`);
  // The status the rows show (an unswept lapsed license is "expired", not "active"): one branch per alternative.
  const statuses: Filter[] = input.status
    ? effectiveStatusSql(input.status, { status: sql`l.status`, expiresAt: sql`l.expires_at`, graceDays: sql`gp.grace_days` }, now())
    : [undefined];

  const { data, nextCursor } = q
    ? await byEmail(tx, q, readings, filters, statuses, planIds, input.limit, input.cursor)
    : await newestFirst(tx, filters, statuses, planIds, input.limit, input.cursor);
  return {
    data: await loadAdminLicenseRows(
      tx,
      data.map((r) => r.id),
    ),
    nextCursor,
    readings,
  };
}

/** One alternative of the status filter; undefined: no filter. */
type Filter = StatusAlternative | undefined;

const where = (conditions: (SQL | undefined)[]) => {
  const present = conditions.filter((c): c is SQL => c !== undefined);
  return present.length ? sql`where ${sql.join(present, sql` and `)}` : sql``;
};
/** The plan's grace days, for the status filter's expiry rule (plans is small: one primary-key probe per row). */
const gracePlan = (status: Filter) => (status ? sql`join ${plans} gp on gp.id = l.plan_id` : sql``);
const NEWEST_FIRST = sql.raw(`created_at desc, id desc`);
const AT_TEXT = sql.raw(`to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

/** Every license (as filtered), newest first; keyset over (created_at, id). */
async function newestFirst(tx: DbOrTx, filters: SQL[], statuses: Filter[], planIds: string[] | null, limit: number, cursor?: string) {
  const conditions = [...filters];
  if (cursor) {
    const [at, id] = decodeCursor(cursor, [isTimestampText, isUuid]);
    conditions.push(sql`(l.created_at, l.id) < (${at}::timestamptz, ${id}::uuid)`);
  }
  const branch = (status: Filter, plan?: string) =>
    statusBranch(
      sql`select l.id, l.created_at from ${licenses} l ${gracePlan(status)}
        ${where([plan ? sql`l.plan_id = ${plan}::uuid` : undefined, status?.where, ...conditions])}`,
      NEWEST_FIRST,
      limit + 1,
      status,
    );
  const branches = statuses.flatMap((status) => (planIds ? planIds.map((plan) => branch(status, plan)) : [branch(status)]));
  const result = await tx.execute<{ id: string; at: string }>(sql`
    select m.id, ${AT_TEXT} as at from (${sql.join(branches, sql` union all `)}) m
    order by m.created_at desc, m.id desc limit ${limit + 1}`);
  return page(result.rows, limit, (r) => [r.at, r.id]);
}

/** The licenses matching any reading of the query, by customer email then newest first; keyset over all three. */
async function byEmail(
  tx: DbOrTx,
  q: string,
  readings: SearchReading[],
  filters: SQL[],
  statuses: Filter[],
  planIds: string[] | null,
  limit: number,
  cursor?: string,
) {
  const conditions = [...filters];
  if (planIds) conditions.push(sql`l.plan_id in (${sql.join(planIds.map((id) => sql`${id}::uuid`), sql`, `)})`);
  const after = cursor ? decodeCursor(cursor, [isShortText, isTimestampText, isUuid]) : null;
  const sameCustomerAfter = after && sql`(lower(c.email) = ${after[0]} and (l.created_at, l.id) < (${after[1]}::timestamptz, ${after[2]}::uuid))`;
  const laterCustomer = after && sql`lower(c.email) ~>~ ${after[0]}`;

  const branch = (status: Filter, ...where_: SQL[]) =>
    statusBranch(
      sql`select lower(c.email) as e, l.created_at, l.id from ${licenses} l join ${customers} c on c.id = l.customer_id ${gracePlan(status)}
        ${where([...where_, status?.where, ...conditions])}`,
      sql.raw(`e using ~<~, created_at desc, id desc`),
      limit + 1,
      status,
    );

  const branches = statuses.flatMap((status) =>
    readings.flatMap((reading): SQL[] => {
      if (reading.by === "email") {
        const prefix = sql`lower(c.email) like ${likePrefix(reading.prefix)}`;
        // Split so each part is one index range: the rest of the cursor's customer, then the customers after it.
        return after ? [branch(status, prefix, sameCustomerAfter!), branch(status, prefix, laterCustomer!)] : [branch(status, prefix)];
      }
      const match = readingCondition(reading, q);
      return [after ? branch(status, match, sql`(${laterCustomer} or ${sameCustomerAfter})`) : branch(status, match)];
    }),
  );

  const result = await tx.execute<{ e: string; at: string; id: string }>(sql`
    select m.e, ${AT_TEXT} as at, m.id from (${sql.join(branches, sql` union `)}) m
    order by m.e using ~<~, m.created_at desc, m.id desc limit ${limit + 1}`);
  return page(result.rows, limit, (r) => [r.e, r.at, r.id]);
}

/** The condition of one reading (other than the email prefix), on licenses l. */
function readingCondition(reading: Exclude<SearchReading, { by: "email" }>, q: string): SQL {
  switch (reading.by) {
    case "key":
      return sql`l.key_hash = ${hashLicenseKey(q)}`;
    case "hint":
      return sql`l.key_hint = ${reading.hint}`;
    case "id":
      // Both columns are on licenses, so this OR is a BitmapOr of the primary key and licenses_customer_idx.
      return sql`(l.id = ${reading.id}::uuid or l.customer_id = ${reading.id}::uuid)`;
    case "fingerprint":
      return sql`l.id in (select a.license_id from ${activations} a where a.fingerprint = ${reading.fingerprint})`;
  }
}

/** Admin rows for these license ids, in the order given (missing ids are skipped). */
export async function loadAdminLicenseRows(tx: DbOrTx, ids: string[]): Promise<AdminLicenseRow[]> {
  const at = now();
  return (await loadLicenseRows(tx, ids)).map((r) => ({
    id: r.id,
    keyHint: r.keyHint,
    status: rowStatus(r, at),
    statusReason: r.statusReason,
    product: r.product,
    plan: { id: r.plan.id, slug: r.plan.slug, name: r.plan.name },
    customer: r.customer,
    maxActivations: r.maxActivations,
    activations: r.activations,
    expiresAt: r.expiresAt ? r.expiresAt.toISOString() : null,
    source: r.source,
    createdAt: r.createdAt.toISOString(),
  }));
}
