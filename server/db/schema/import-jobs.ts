import { index, integer, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";

export const IMPORT_FORMATS = ["keystead", "lemonsqueezy", "keygen", "gumroad", "polar"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
export const IMPORT_JOB_STATUSES = ["queued", "running", "done", "failed"] as const;
export type ImportJobStatus = (typeof IMPORT_JOB_STATUSES)[number];

/**
 * One import (server/domain/import): the uploaded file waiting for the worker, then its progress and outcome.
 * The worker commits `processed` with each batch of rows it writes, so a re-run after a crash resumes there.
 */
export const importJobs = pgTable(
  "import_jobs",
  {
    id: id(),
    format: text("format").$type<ImportFormat>().notNull(),
    status: text("status").$type<ImportJobStatus>().notNull().default("queued"),
    /**
     * The file as uploaded, sealed with AUTH_SECRET (it holds license keys in the clear); null once the import
     * has finished, so no copy outlives it.
     */
    sourceCiphertext: text("source_ciphertext"),
    /** The plan slug for rows whose product has no mapping, and the confirmed product -> plan slug mapping. */
    plan: text("plan"),
    mapping: jsonb("mapping").$type<Record<string, string>>().notNull().default({}),
    /** Rows the file holds, and how many of them are behind us (written or refused). */
    total: integer("total").notNull().default(0),
    processed: integer("processed").notNull().default(0),
    counts: jsonb("counts").$type<Record<string, number>>().notNull().default({}),
    /** Every refused row and why: `{ row, reason }`. */
    refused: jsonb("refused").$type<{ row: number; reason: string }[]>().notNull().default([]),
    error: text("error"),
    createdBy: text("created_by"),
    createdAt: createdAt(),
    startedAt: ts("started_at"),
    finishedAt: ts("finished_at"),
  },
  (t) => [index("import_jobs_created_idx").on(t.createdAt)],
);
