import { parse } from "csv-parse/sync";
import { unreadable } from "../types";

/**
 * A spreadsheet export as records keyed by lower-cased header, with a column looked up by any of its known
 * names: platforms rename columns over the years ("License Key" / "License key" / "key").
 */
export type CsvRecord = Record<string, string>;

export function readCsv(text: string, what: string): CsvRecord[] {
  try {
    return parse(text.replace(/^\uFEFF/, ""), {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
    }) as CsvRecord[];
  } catch {
    throw unreadable(what);
  }
}

export function column(record: CsvRecord, ...names: string[]): string | null {
  for (const n of names) {
    const v = record[n];
    if (v !== undefined && v !== "") return v;
  }
  return null;
}

export function hasColumn(records: CsvRecord[], ...names: string[]) {
  const first = records[0];
  return first !== undefined && names.some((n) => n in first);
}

export const yes = (v: string | null) => v !== null && /^(true|yes|1|y)$/i.test(v);
