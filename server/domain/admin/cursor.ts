import { sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { z } from "zod";
import { AppError } from "@/server/domain/errors";

/**
 * Keyset cursors for the admin lists: an opaque base64url token holding the last row's sort values. Pages stay
 * as fast at row 1,000,000 as at row 1 (no OFFSET), and rows added while someone pages never shift a page.
 *
 * Timestamps travel as PostgreSQL's own microsecond text, not a JS Date: rows written with defaultNow() carry
 * microseconds a millisecond Date would round away, and the page boundary would then skip or repeat rows.
 */

export const CursorInput = z.string().min(1).max(500);
export const LimitInput = (max = 100, def = 25) => z.number().int().min(1).max(max).default(def);

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

export const encodeCursor = (values: (string | number)[]) => Buffer.from(JSON.stringify(values)).toString("base64url");

const badCursor = () => new AppError("BAD_REQUEST", "The cursor is not valid: pass nextCursor from the previous page unchanged.");

/** Decodes a cursor into exactly `arity` values, each checked by `check`; a 400 for anything else. */
export function decodeCursor(raw: string, checks: ((v: unknown) => boolean)[]): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== checks.length) throw badCursor();
  parsed.forEach((v, i) => {
    if (!checks[i]!(v)) throw badCursor();
  });
  return parsed as (string | number)[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === "string" && UUID.test(v);
export const isTimestampText = (v: unknown): v is string => typeof v === "string" && TIMESTAMP.test(v);
export const isShortText = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 320;
export const isPositiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/** A timestamptz column as the exact text a cursor carries. */
export const timestampText = (column: PgColumn | SQL) =>
  sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * "Comes after the cursor row" for lists ordered by (timestamp desc, uuid desc): one row comparison, which
 * PostgreSQL serves straight from a (timestamp, id) index scanned backwards.
 */
export function beforeTimestampCursor(at: PgColumn, id: PgColumn, raw: string, idType: "uuid" | "text" = "uuid"): SQL {
  const [cAt, cId] = decodeCursor(raw, [isTimestampText, idType === "uuid" ? isUuid : isShortText]);
  return idType === "uuid"
    ? sql`(${at}, ${id}) < (${cAt}::timestamptz, ${cId}::uuid)`
    : sql`(${at}, ${id}) < (${cAt}::timestamptz, ${cId}::text)`;
}

/** Cuts `limit + 1` fetched rows to a page and makes the cursor of its last row (null on the last page). */
export function page<R>(rows: R[], limit: number, cursorOf: (row: R) => (string | number)[]) {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(cursorOf(last)) : null };
}
