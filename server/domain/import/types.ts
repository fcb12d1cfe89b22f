import type { LicenseStatus } from "@/server/db/schema";
import { AppError } from "@/server/domain/errors";

/**
 * What every importer of another platform's file (formats/*.ts) turns it into: one license per row, with the
 * customer it belongs to, the product or variant it was sold as (the operator maps those to plans) and its
 * activations. The writer (foreign.ts) knows no platform.
 */
export type ForeignActivation = {
  fingerprint: string;
  name: string | null;
  platform: string | null;
  createdAt: Date | null;
  lastSeenAt: Date | null;
  metadata: Record<string, unknown>;
};

export type ForeignLicense = {
  /** 1-based position in the file (the CSV line after the header, or the record in the document). */
  row: number;
  /** The key exactly as the platform issued it. */
  key: string;
  email: string;
  name: string | null;
  /** The platform's product or variant, as the mapping names it ("product:123", "policy:<uuid>"...). */
  product: { ref: string; name: string };
  status: LicenseStatus;
  /** Activations allowed; null: the plan's seats (times `quantity`). */
  maxActivations: number | null;
  quantity: number;
  expiresAt: Date | null;
  createdAt: Date | null;
  activations: ForeignActivation[];
  /** The platform's own id of the license, kept in the audit row. */
  externalId: string | null;
};

export type Refusal = { row: number; reason: string };

export type ParsedFile = { licenses: ForeignLicense[]; refused: Refusal[]; rows: number };

/** A row the parser could read but cannot import: thrown inside a row's parse, caught into `refused`. */
export class RowRefused extends Error {}
export const refuse = (reason: string): never => {
  throw new RowRefused(reason);
};

export const unreadable = (what: string) =>
  new AppError("UNREADABLE_IMPORT", `This file is not ${what}.`);

/** A date the platform wrote (ISO 8601, or a spreadsheet's "2024-03-01 10:00:00"); null for empty. */
export function parseDate(value: unknown, field: string): Date | null {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value !== "string" && typeof value !== "number") refuse(`${field} is not a date`);
  const text = String(value).trim();
  if (text === "") return null;
  const d = new Date(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(text) ? `${text.replace(" ", "T")}Z` : text);
  if (Number.isNaN(d.getTime())) refuse(`${field} "${text.slice(0, 40)}" is not a date`);
  return d;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function parseEmail(value: unknown): string {
  const email = typeof value === "string" ? value.trim() : "";
  if (!email) refuse("no customer email");
  if (!EMAIL.test(email) || email.length > 320) refuse(`customer email "${email.slice(0, 60)}" is not an email address`);
  return email;
}

export function parseLimit(value: unknown, field: string): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) refuse(`${field} "${String(value).slice(0, 20)}" is not a whole number`);
  return n;
}

export const str = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v.trim() : typeof v === "number" ? String(v) : null);

/** Parses each record with `one`; a RowRefused becomes a refusal of that row, anything else is a bug. */
export function eachRow<T>(records: T[], one: (record: T, row: number) => ForeignLicense): ParsedFile {
  const licenses: ForeignLicense[] = [];
  const refused: Refusal[] = [];
  records.forEach((record, i) => {
    try {
      licenses.push(one(record, i + 1));
    } catch (err) {
      if (err instanceof RowRefused) refused.push({ row: i + 1, reason: err.message });
      else throw err;
    }
  });
  return { licenses, refused, rows: records.length };
}
