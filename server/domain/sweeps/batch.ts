/**
 * Sweeps work in batches: each batch is one short transaction over at most `limit` rows, locked FOR UPDATE
 * SKIP LOCKED, so a million due licenses never make one giant transaction, and two workers sweeping at once
 * split the rows between them instead of queueing behind each other.
 */
export const SWEEP_BATCH_SIZE = 500;

export type SweepOptions = {
  /** Rows per batch (one transaction). */
  limit?: number;
};

/** One batch's outcome: `more` is true when the batch was full, so another one may find more work. */
export type SweepBatch = { processed: number; more: boolean };

/** Audit metadata of every change a sweep makes. */
export const SWEEP_AUDIT_METADATA = { via: "sweep" } as const;

/**
 * Runs batches until one comes back not full or the time budget is spent (a sweep then leaves the rest to its
 * next scheduled run instead of overlapping it). Returns the total processed.
 */
export async function runBatches(batch: () => Promise<SweepBatch>, opts: { budgetMs?: number } = {}): Promise<number> {
  const deadline = Date.now() + (opts.budgetMs ?? 45_000);
  let total = 0;
  for (;;) {
    const { processed, more } = await batch();
    total += processed;
    if (!more || Date.now() >= deadline) return total;
  }
}
