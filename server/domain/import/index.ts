import { eq } from "drizzle-orm";
import { z } from "zod";
import { ACTOR_TYPES, IMPORT_FORMATS, importJobs, type ImportFormat } from "@/server/db/schema";
import type { Db, DbOrTx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { AppError } from "@/server/domain/errors";
import { open, seal } from "@/server/domain/secret-box";
import { enqueue } from "@/server/jobs/enqueue";
import { parseGumroad } from "./formats/gumroad";
import { parseKeygen } from "./formats/keygen";
import { parseLemonSqueezy } from "./formats/lemonsqueezy";
import { parsePolar } from "./formats/polar";
import { prepareForeign, saveMapping, writeForeign, type PlanChoice, type ProductMapping } from "./foreign";
import { assertEmptyInstance, importKeystead, previewKeystead, readKeysteadDocument } from "./keystead";
import type { ParsedFile, Refusal } from "./types";

/**
 * POST /api/v1/admin/import (and the admin app's upload): one door for every format. A dry run answers what an
 * import would do and writes nothing. An import of a small file runs in the request; a larger one (or any,
 * when asked with `async`) is stored sealed in import_jobs and run by the worker (task import_run), its progress
 * in that row for GET /api/v1/admin/import/{id} and the admin app's progress bar.
 */

/** Files with at most this many rows import in the request; larger ones go to the worker (202). */
export const SYNC_IMPORT_MAX_ROWS = 1000;
/** The largest file accepted (about a million licenses of Lemon Squeezy's JSON). */
export const IMPORT_MAX_BYTES = 512 * 1024 * 1024;

const flag = z
  .union([z.boolean(), z.enum(["1", "0", "true", "false", ""])])
  .transform((v) => v === true || v === "1" || v === "true")
  .optional();

/** The query of POST /api/v1/admin/import (the body is the file itself). */
export const ImportQuery = z.object({
  format: z.enum(IMPORT_FORMATS),
  /** The plan slug for every row whose product or variant has no mapping yet. */
  plan: z.string().min(1).max(200).optional(),
  /** `{ "<product ref>": "<plan slug>" }`, as JSON (the refs are listed by a dry run's `products`). */
  mapping: z
    .string()
    .max(100_000)
    .transform((s, ctx) => {
      try {
        const v = JSON.parse(s);
        const parsed = z.record(z.string(), z.string()).safeParse(v);
        if (parsed.success) return parsed.data;
      } catch {
        /* below */
      }
      ctx.addIssue({ code: "custom", message: 'mapping must be a JSON object of "<product ref>": "<plan slug>"' });
      return z.NEVER;
    })
    .optional(),
  dryRun: flag,
  /** Always run through the worker, whatever the size (the admin app does, to show progress). */
  async: flag,
});
export type ImportQuery = z.infer<typeof ImportQuery>;

export const ImportRefusal = z.object({ row: z.number().int(), reason: z.string() });
/** The answer of POST /api/v1/admin/import. */
export const ImportResult = z.object({
  dryRun: z.boolean(),
  counts: z.record(z.string(), z.number()),
  refused: z.array(ImportRefusal),
  /** Foreign formats: each product or variant in the file, and the plan its rows go to (null: unmapped). */
  products: z.array(z.object({ ref: z.string(), name: z.string(), rows: z.number(), plan: z.string().nullable(), mappedBy: z.string().nullable() })).optional(),
  plans: z.array(z.object({ slug: z.string(), name: z.string(), product: z.string(), seats: z.number() })).optional(),
  importId: z.string().optional(),
  status: z.enum(["queued", "running", "done", "failed"]).optional(),
});
export type ImportResult = z.infer<typeof ImportResult>;

/** GET /api/v1/admin/import/{id}. */
export const ImportJobView = z.object({
  import: z.object({
    id: z.string(),
    format: z.enum(IMPORT_FORMATS),
    status: z.enum(["queued", "running", "done", "failed"]),
    total: z.number(),
    processed: z.number(),
    counts: z.record(z.string(), z.number()),
    refused: z.array(ImportRefusal),
    error: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  }),
});
export type ImportJobView = z.infer<typeof ImportJobView>;

const FOREIGN_PARSERS: Record<Exclude<ImportFormat, "keystead">, (text: string) => ParsedFile> = {
  lemonsqueezy: parseLemonSqueezy,
  keygen: parseKeygen,
  gumroad: parseGumroad,
  polar: parsePolar,
};

type Preview = {
  counts: Record<string, number>;
  refused: Refusal[];
  total: number;
  products?: ProductMapping[];
  plans?: Omit<PlanChoice, "id">[];
};

async function preview(db: DbOrTx, query: ImportQuery, text: string): Promise<Preview> {
  if (query.format === "keystead") {
    const doc = readKeysteadDocument(text);
    await assertEmptyInstance(db);
    const p = previewKeystead(doc);
    const total = Object.values(p.counts).reduce((a, b) => a + b, 0);
    return { counts: { ...p.counts, publishOnlySigningKeys: p.publishOnlySigningKeys, refused: p.refused.length }, refused: p.refused, total };
  }
  const prepared = await prepareForeign(db, query.format, FOREIGN_PARSERS[query.format](text), { plan: query.plan, mapping: query.mapping });
  return {
    counts: prepared.counts,
    refused: prepared.refused,
    total: prepared.counts.rows,
    products: prepared.products,
    plans: prepared.plans.map(({ slug, name, product, seats }) => ({ slug, name, product, seats })),
  };
}

/** The dry run, or the import (in the request when small, else queued for the worker). */
export async function startImport(db: Db, actor: Actor, query: ImportQuery, text: string): Promise<{ status: 200 | 202; body: ImportResult }> {
  if (text.trim() === "") throw new AppError("BAD_REQUEST", "Send the file to import as the request body.");
  const p = await preview(db, query, text);
  const shown = { counts: p.counts, refused: p.refused, products: p.products, plans: p.plans };
  if (query.dryRun) return { status: 200, body: { dryRun: true, ...shown } };
  if (query.format === "keystead" && p.refused.length) {
    // All or nothing (keystead.ts): refused before a job is made, so nothing of the file is kept.
    const sealed = p.refused.some((r) => r.reason.includes("another AUTH_SECRET"));
    throw new AppError(
      sealed ? "SEALED_UNDER_ANOTHER_SECRET" : "UNREADABLE_IMPORT",
      `${p.refused.length} row(s) of this export cannot be imported, so nothing was. First: ${p.refused[0]!.reason}`,
      { refused: p.refused.slice(0, 100) },
    );
  }

  const [job] = await db.transaction(async (tx) => {
    const rows = await tx
      .insert(importJobs)
      .values({
        format: query.format,
        sourceCiphertext: seal("import-upload", text),
        plan: query.plan ?? null,
        mapping: query.mapping ?? {},
        total: p.total,
        createdBy: actor.id ? `${actor.type}:${actor.id}` : actor.type,
      })
      .returning({ id: importJobs.id });
    if (query.async || p.total > SYNC_IMPORT_MAX_ROWS) await enqueue(tx, "import_run", { importId: rows[0]!.id }, { jobKey: `import:${rows[0]!.id}`, maxAttempts: 3 });
    return rows;
  });
  if (query.async || p.total > SYNC_IMPORT_MAX_ROWS) {
    return { status: 202, body: { dryRun: false, ...shown, importId: job!.id, status: "queued" } };
  }
  const done = await runImportJob(db, job!.id, actor);
  return { status: 200, body: { dryRun: false, counts: done.import.counts, refused: done.import.refused, products: p.products, importId: job!.id, status: done.import.status } };
}

/** "admin:ops@example.com" (import_jobs.created_by) back into the actor it names. */
function actorOf(createdBy: string | null): Actor | null {
  if (!createdBy) return null;
  const at = createdBy.indexOf(":");
  const type = (at < 0 ? createdBy : createdBy.slice(0, at)) as Actor["type"];
  if (!(ACTOR_TYPES as readonly string[]).includes(type)) return null;
  return { type, id: at < 0 ? null : createdBy.slice(at + 1) };
}

async function setProgress(db: DbOrTx, id: string, processed: number) {
  await db.update(importJobs).set({ processed }).where(eq(importJobs.id, id));
}

/**
 * Runs a stored import (the worker's task import_run, or the request for a small file). Idempotent: a finished
 * import is left alone; a foreign import that stopped part-way resumes after the last batch it committed.
 */
export async function runImportJob(db: Db, id: string, actor: Actor): Promise<ImportJobView> {
  const [job] = await db.select().from(importJobs).where(eq(importJobs.id, id));
  if (!job) throw new AppError("NOT_FOUND", "No import has this id.");
  if (job.status === "done" || job.status === "failed" || !job.sourceCiphertext) return viewOf(job);
  await db.update(importJobs).set({ status: "running", startedAt: job.startedAt ?? new Date() }).where(eq(importJobs.id, id));
  // The worker runs it as the system; the audit row names who asked for it.
  const by = actorOf(job.createdBy) ?? actor;
  const finish = async (values: Partial<typeof importJobs.$inferInsert>, audit?: Record<string, unknown>) => {
    await db.transaction(async (tx) => {
      await tx.update(importJobs).set({ ...values, sourceCiphertext: null, finishedAt: new Date() }).where(eq(importJobs.id, id));
      if (audit) await recordAudit(tx, by, { action: "import.completed", subjectType: "import", subjectId: id, after: audit });
    });
  };
  try {
    const text = open("import-upload", job.sourceCiphertext).toString("utf8");
    if (job.format === "keystead") {
      const doc = readKeysteadDocument(text);
      let last = 0;
      const result = await importKeystead(db, doc, async (processed) => {
        // From outside the import's transaction, at most every 2,000 rows.
        if (processed - last >= 2000) (last = processed), await setProgress(db, id, processed);
      });
      const counts = { ...result.counts, publishOnlySigningKeys: result.publishOnlySigningKeys };
      await finish({ status: "done", processed: job.total, counts }, { format: job.format, counts });
    } else {
      const prepared = await prepareForeign(db, job.format, FOREIGN_PARSERS[job.format](text), { plan: job.plan ?? undefined, mapping: job.mapping });
      // A resumed run: rows written before the stop are now "already exists" and are not refused again.
      const resumedFrom = job.processed;
      const refusedBefore = prepared.refused.filter((r) => !(resumedFrom > 0 && r.reason === "a license with this key already exists here"));
      const base = prepared.counts.rows - prepared.ready.length;
      const outcome = await writeForeign(db, prepared.ready, {
        onBatch: (tx, done) => setProgress(tx, id, base + done),
      });
      await saveMapping(db, job.format, prepared.mapping);
      const refused = [...refusedBefore, ...outcome.refused].sort((a, b) => a.row - b.row);
      const counts = {
        rows: prepared.counts.rows,
        licenses: outcome.licenses,
        activations: outcome.activations,
        newCustomers: outcome.newCustomers,
        refused: refused.length,
        overSeats: prepared.counts.overSeats,
      };
      await finish({ status: "done", processed: prepared.counts.rows, counts, refused }, { format: job.format, counts, mapping: prepared.mapping });
    }
  } catch (err) {
    const message = err instanceof AppError ? err.message : "The import stopped on an unexpected error; nothing of the batch it was writing was kept.";
    if (!(err instanceof AppError)) console.error(`[import] ${id} failed:`, err);
    const refused = err instanceof AppError && Array.isArray((err.details as { refused?: unknown })?.refused) ? ((err.details as { refused: Refusal[] }).refused) : [];
    await finish({ status: "failed", error: message, refused });
  }
  const [after] = await db.select().from(importJobs).where(eq(importJobs.id, id));
  return viewOf(after!);
}

function viewOf(job: typeof importJobs.$inferSelect): ImportJobView {
  return {
    import: {
      id: job.id,
      format: job.format,
      status: job.status,
      total: job.total,
      processed: job.processed,
      counts: job.counts,
      refused: job.refused,
      error: job.error,
      createdAt: job.createdAt.toISOString(),
      startedAt: job.startedAt?.toISOString() ?? null,
      finishedAt: job.finishedAt?.toISOString() ?? null,
    },
  };
}

export async function getImportJob(db: DbOrTx, id: string): Promise<ImportJobView> {
  if (!z.string().uuid().safeParse(id).success) throw new AppError("NOT_FOUND", "No import has this id.");
  const [job] = await db.select().from(importJobs).where(eq(importJobs.id, id));
  if (!job) throw new AppError("NOT_FOUND", "No import has this id.");
  return viewOf(job);
}


