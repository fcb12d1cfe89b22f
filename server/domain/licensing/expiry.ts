import { sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { LicenseStatus } from "@/server/db/schema";
import { DAY_MS } from "@/server/domain/clock";

/**
 * The expiry rule, in the one place it lives: here for TypeScript, and as the SQL fragments below for queries
 * that must pick rows by it (the expiry sweep, the admin list filters). Every door calls one or the other.
 *
 * The boundary: a license lapses at expiresAt + its plan's grace days, and at that very millisecond it is
 * already expired (lapsed when lapse instant <= now). An expiry names the first instant without the license:
 * the offline token's `exp` (capped at that same instant) means "not accepted from then on" (RFC 7519), and a
 * Stripe period end is the instant the next period starts, so a renewal paid for it has moved expiresAt by then.
 *
 * Which clock: the app's (clock.ts `now()`, whole milliseconds), read once per decision. SQL never reads the
 * database's now(): the instant is passed in, so the two forms cannot disagree about the time, and a test that
 * sets the clock moves every door at once. PostgreSQL keeps microseconds that a JS Date drops (truncates) when it
 * reads a row; the SQL form compares with `< at + 1 ms`, which for a whole-millisecond `at` is exactly the
 * TypeScript test on the truncated value. A grace day is 86,400 s in both: in SQL never `interval '1 day'`,
 * which the session's time zone would stretch or shrink across a daylight-saving change.
 */

/** The instant a license with this expiry stops working: its expiry plus the grace days. */
export const lapsesAt = (expiresAt: Date, graceDays: number) => new Date(expiresAt.getTime() + graceDays * DAY_MS);

/** True from expiresAt + graceDays on (that instant included); a perpetual license (null) never lapses. */
export function isLapsed(expiresAt: Date | null, graceDays: number, at: Date): boolean {
  return expiresAt !== null && lapsesAt(expiresAt, graceDays).getTime() <= at.getTime();
}

type ExpiryFacts = { status: LicenseStatus; expiresAt: Date | null; graceDays: number };

/** Marked expired (by the sweep, Stripe or an admin), or lapsed before anything recorded it. */
export function isExpired(license: ExpiryFacts, at: Date): boolean {
  return license.status === "expired" || isLapsed(license.expiresAt, license.graceDays, at);
}

/**
 * The status every door shows (validate, tokens, portal, admin): suspended and revoked stand as an admin or a
 * dispute left them; active and past_due read "expired" as soon as they lapse, before the sweep records it.
 */
export function effectiveStatus(license: ExpiryFacts, at: Date): LicenseStatus {
  if (license.status === "revoked" || license.status === "suspended") return license.status;
  return isExpired(license, at) ? "expired" : license.status;
}

/** The statuses a lapse turns into "expired" (and the expiry sweep records). */
export const LAPSING_STATUSES = ["active", "past_due"] as const satisfies readonly LicenseStatus[];

/** Column expressions of a query's license row and its plan (e.g. `licenses.expiresAt` or sql`l.expires_at`). */
export type ExpiryColumns = { status: SQLWrapper; expiresAt: SQLWrapper; graceDays: SQLWrapper };

/** `at + 1 ms` as a timestamptz parameter: see the comment at the top for why `<` against it. */
const justAfter = (at: Date) => sql`${new Date(at.getTime() + 1).toISOString()}::timestamptz`;

/**
 * isLapsed in SQL: false (never null) for a perpetual license. The plain range test comes first so an index on
 * expires_at (licenses_live_expires_idx) narrows the rows; the grace test, one addition per row, then decides.
 */
export function lapsedSql(c: Pick<ExpiryColumns, "expiresAt" | "graceDays">, at: Date): SQL {
  const bound = justAfter(at);
  return sql`(${c.expiresAt} is not null and ${c.expiresAt} < ${bound} and ${c.expiresAt} + ${c.graceDays} * interval '86400 seconds' < ${bound})`;
}

// Literals, not parameters: they let the planner prove licenses_live_expires_idx's predicate.
const lapsing = (c: ExpiryColumns) => sql`${c.status} in (${sql.raw(LAPSING_STATUSES.map((s) => `'${s}'`).join(", "))})`;

/**
 * One way a row can show a status. `byExpiry`: the rows are the lapsed ones the sweep has not marked yet, found
 * through the expiry index: few by design (the sweep runs every minute), among many live licenses.
 */
export type StatusAlternative = { where: SQL; byExpiry: boolean };

/**
 * The rows whose effectiveStatus is `status`, as disjoint alternatives: each one is its own branch of a
 * UNION ALL (statusBranch), so each keeps its own index (the stored status, or expires_at for the lapsed ones).
 */
export function effectiveStatusSql(status: LicenseStatus, c: ExpiryColumns, at: Date): StatusAlternative[] {
  switch (status) {
    case "expired":
      return [
        { where: sql`${c.status} = 'expired'`, byExpiry: false },
        { where: sql`(${lapsing(c)} and ${lapsedSql(c, at)})`, byExpiry: true },
      ];
    case "active":
    case "past_due":
      return [{ where: sql`(${c.status} = ${status} and not ${lapsedSql(c, at)})`, byExpiry: false }];
    case "suspended":
    case "revoked":
      return [{ where: sql`${c.status} = ${status}`, byExpiry: false }];
  }
}

/**
 * One branch of a list: `rows` (a select without order or limit) cut at `limit` rows in `order` (by the
 * select's output column names). A lapsed-license branch is fenced (OFFSET 0) so it is planned on its own: found
 * by expiry, then sorted. Left to the list's order, the planner walks the newest-first index through every live
 * license looking for the few lapsed ones (measured: 80 ms at 300,000 licenses for a page that found 20).
 */
export function statusBranch(rows: SQL, order: SQL, limit: number, alt: StatusAlternative | undefined): SQL {
  return alt?.byExpiry
    ? sql`(select * from (${rows} offset 0) f order by ${order} limit ${limit})`
    : sql`(${rows} order by ${order} limit ${limit})`;
}
