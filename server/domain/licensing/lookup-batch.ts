/**
 * Coalesces concurrent key lookups into one query (the DataLoader pattern), for the hot read of validate and
 * heartbeat. Under load, most of a lookup's cost is not PostgreSQL's index probe but the round trip around it:
 * a pool checkout, protocol messages, a socket write and read, promise plumbing inside the framework's request
 * context. One query for every key that arrived while earlier queries were in flight pays that once per batch.
 *
 * Freshness: a lookup only ever joins a batch that has not been sent yet, so its answer comes from a snapshot
 * taken after it was asked. A revoke or key rotation that committed before a request arrived is always seen,
 * exactly as with one query per request.
 *
 * Latency: at low load every lookup is its own batch (one `setImmediate` later). Batches grow only when
 * `maxInFlight` queries are already running, that is when requests would otherwise wait for a connection.
 */

/** Runs one statement; the batcher needs nothing more of a pool. */
export type QueryFn<R> = (config: { name: string; text: string; values: unknown[] }) => Promise<{ rows: R[] }>;

export type BatchStats = { lookups: number; queries: number; largestBatch: number };

type Pending<R> = {
  keyHash: string;
  fingerprint: string | null;
  resolve: (row: R | null) => void;
  reject: (err: unknown) => void;
};

export class KeyLookupBatcher<R extends { i: number }> {
  private queue: Pending<R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  readonly stats: BatchStats = { lookups: 0, queries: 0, largestBatch: 0 };

  /**
   * @param text    the statement; `$1` is the array of key hashes, `$2` the array of fingerprints (null where none
   *                was given), and each row carries `i`, the 1-based position of the lookup it answers.
   * @param maxInFlight batches running at once (each holds one pool connection while it runs)
   * @param maxBatch    keys in one batch, to bound the statement's size and the time of any one query
   */
  constructor(
    private readonly query: QueryFn<R>,
    private readonly name: string,
    private readonly text: string,
    private readonly maxInFlight = 4,
    private readonly maxBatch = 256,
  ) {}

  lookup(keyHash: string, fingerprint: string | null): Promise<R | null> {
    this.stats.lookups++;
    return new Promise((resolve, reject) => {
      this.queue.push({ keyHash, fingerprint, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // After the current I/O phase: requests whose bodies arrived together share a batch.
    setImmediate(() => {
      this.scheduled = false;
      while (this.queue.length > 0 && this.inFlight < this.maxInFlight)
        void this.send(this.queue.splice(0, this.maxBatch));
    });
  }

  private async send(batch: Pending<R>[]) {
    this.inFlight++;
    this.stats.queries++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    try {
      const { rows } = await this.query({
        name: this.name,
        text: this.text,
        values: [batch.map((p) => p.keyHash), batch.map((p) => p.fingerprint)],
      });
      const byPosition = new Map<number, R>();
      for (const row of rows) byPosition.set(row.i, row);
      batch.forEach((p, index) => p.resolve(byPosition.get(index + 1) ?? null));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
