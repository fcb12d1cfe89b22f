import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "@/server/db/client";
import { activations, licenses } from "@/server/db/schema";
import { hashLicenseKey } from "@/server/domain/licensing/license-key";
import { lookupBatcher, lookupLicense } from "@/server/domain/licensing/lookup";
import { KeyLookupBatcher } from "@/server/domain/licensing/lookup-batch";
import { touchActivation, touchBatcher } from "@/server/domain/licensing/touch";
import { createTestDatabase, type TestDb } from "./helpers/db";
import { makeLicense, makePlan } from "./helpers/factories";

// Validate's hot read coalesces concurrent lookups into one query. These tests hold it to answering every
// lookup exactly as a lookup of its own would, under real concurrency, and never from a stale snapshot.

let database: TestDb;
type Seeded = { key: string; id: string; activated: Map<string, string> };
const seeded: Seeded[] = [];

beforeAll(async () => {
  database = await createTestDatabase("lookupbatch");
  const plan = await makePlan(database.db, { seats: 5 });
  for (let i = 0; i < 40; i++) {
    const { license, key } = await makeLicense(database.db, { planId: plan.id });
    const activated = new Map<string, string>();
    for (let m = 0; m < i % 3; m++) {
      const [row] = await database.db.insert(activations).values({ licenseId: license.id, fingerprint: `machine-${i}-${m}` }).returning();
      activated.set(row!.fingerprint, row!.id);
    }
    seeded.push({ key, id: license.id, activated });
  }
});
afterAll(async () => {
  await database?.drop();
});

describe("batched license lookups", () => {
  it("answers 400 concurrent lookups each as its own, in fewer queries than lookups", async () => {
    const batcher = lookupBatcher(database.pool);
    const before = { ...batcher.stats };
    // Every kind of lookup in one burst: known keys with and without fingerprints, activated and unknown
    // machines, the same key asked with different fingerprints, and keys that match nothing.
    const asks = Array.from({ length: 400 }, (_, n) => {
      const s = seeded[n % seeded.length]!;
      const fingerprints = [...s.activated.keys()];
      const kind = n % 5;
      if (kind === 4) return { keyHash: hashLicenseKey(`ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-${String(n).padStart(5, "0").replace(/[ILOU]/g, "0")}`)!, expect: null };
      const fingerprint = kind === 0 ? undefined : kind === 1 || fingerprints.length === 0 ? `unknown-${n}` : fingerprints[n % fingerprints.length];
      return { keyHash: hashLicenseKey(s.key)!, fingerprint, expect: s };
    });
    const results = await Promise.all(asks.map((a) => lookupLicense(database.db, a.keyHash, a.fingerprint)));

    results.forEach((found, n) => {
      const ask = asks[n]!;
      if (!ask.expect) {
        expect(found, `lookup ${n}`).toBeNull();
        return;
      }
      expect(found?.license.id, `lookup ${n}`).toBe(ask.expect.id);
      expect(found?.activations, `lookup ${n}`).toBe(ask.expect.activated.size);
      const activationId = ask.fingerprint ? ask.expect.activated.get(ask.fingerprint) : undefined;
      expect(found?.activation?.id ?? null, `lookup ${n}`).toBe(activationId ?? null);
      if (activationId) expect(found?.activation?.fingerprint).toBe(ask.fingerprint);
    });

    const lookups = batcher.stats.lookups - before.lookups;
    const queries = batcher.stats.queries - before.queries;
    expect(lookups).toBe(400);
    expect(queries).toBeGreaterThan(0);
    expect(queries).toBeLessThan(lookups / 4);
    expect(batcher.stats.largestBatch).toBeGreaterThan(1);
  });

  it("matches fingerprints that an array literal would mangle, each in a batch with the others", async () => {
    const plan = await makePlan(database.db, { seats: 10 });
    const { license, key } = await makeLicense(database.db, { planId: plan.id });
    const odd = ["NULL", "null", 'quo"te', "back\\slash", "{brace}", "com,ma", " spaced ", "ünïcødé ✓", "", "\t tab"].filter(Boolean);
    const ids = new Map<string, string>();
    for (const fingerprint of odd) {
      const [row] = await database.db.insert(activations).values({ licenseId: license.id, fingerprint }).returning();
      ids.set(fingerprint, row!.id);
    }
    const keyHash = hashLicenseKey(key)!;
    const found = await Promise.all([...odd, "NUL", "quo", "missing"].map((f) => lookupLicense(database.db, keyHash, f)));
    found.forEach((f, n) => {
      const fingerprint = [...odd, "NUL", "quo", "missing"][n]!;
      expect(f?.license.id).toBe(license.id);
      expect(f?.activations).toBe(odd.length);
      expect(f?.activation?.id ?? null, JSON.stringify(fingerprint)).toBe(ids.get(fingerprint) ?? null);
    });
  });

  it("gives a lookup on a checked-out client the same answer, outside any batch", async () => {
    const s = seeded.find((x) => x.activated.size === 2)!;
    const [fingerprint] = [...s.activated.keys()];
    const client = await database.pool.connect();
    try {
      const viaPool = await lookupLicense(database.db, hashLicenseKey(s.key)!, fingerprint);
      const viaClient = await lookupLicense(drizzle({ client, schema }), hashLicenseKey(s.key)!, fingerprint);
      expect(viaClient).toEqual(viaPool);
      expect(viaClient?.activation?.id).toBe(s.activated.get(fingerprint!));
    } finally {
      client.release();
    }
  });

  it("reads a lone lookup without a fingerprint (validate's usual call) as the full statement would, for every license", async () => {
    // One at a time, so each is a batch of one and takes the key-only statement; the checked-out client runs
    // the full one (with the activation join and the signing kid) for the same key.
    const client = await database.pool.connect();
    try {
      for (const s of seeded) {
        const keyOnly = await lookupLicense(database.db, hashLicenseKey(s.key)!);
        const full = await lookupLicense(drizzle({ client, schema }), hashLicenseKey(s.key)!);
        expect(keyOnly?.license).toEqual(full?.license);
        expect(keyOnly?.activations).toBe(s.activated.size);
        expect(keyOnly?.activation).toBeNull();
        expect(keyOnly?.signingKid).toBeNull();
      }
      expect(await lookupLicense(database.db, hashLicenseKey("ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ")!)).toBeNull();
    } finally {
      client.release();
    }
  });

  it("never answers a lookup from a query that started before it was asked", async () => {
    const s = seeded[7]!;
    const keyHash = hashLicenseKey(s.key)!;
    // The real statement on the real pool; only its answer is held back until the test opens the gate, so the
    // first batch's snapshot is taken before the revoke below commits.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let calls = 0;
    const batcher = new KeyLookupBatcher<{ i: number; status: string }>(
      async (config) => {
        const result = await database.pool.query<{ i: number; status: string }>(config);
        if (++calls === 1) await gate;
        return result;
      },
      "lookup_batch_test_status",
      `select q.i::int as i, l.status from unnest($1::text[], $2::text[]) with ordinality as q(key_hash, fingerprint, i)
         join licenses l on l.key_hash = q.key_hash`,
      1,
    );

    const first = batcher.lookup(keyHash, null);
    while (calls === 0) await new Promise((r) => setImmediate(r));
    await database.db.update(licenses).set({ status: "revoked" }).where(eq(licenses.id, s.id));
    const second = batcher.lookup(keyHash, null);
    open();

    expect((await first)?.status).toBe("active");
    expect((await second)?.status).toBe("revoked");
    expect(batcher.stats.queries).toBe(2);
  });

  it("fails every lookup of a batch whose query fails, and serves the next batch", async () => {
    const batcher = new KeyLookupBatcher<{ i: number; id: string }>(
      (config) => database.pool.query(config),
      "lookup_batch_test_fail",
      `select q.i::int as i, l.id from unnest($1::text[], $2::text[]) with ordinality as q(key_hash, fingerprint, i)
         join licenses l on l.key_hash = q.key_hash`,
    );
    // PostgreSQL refuses a NUL byte in text: a real error from the real server, for the whole batch.
    const failing = await Promise.allSettled([batcher.lookup("bad\u0000hash", null), batcher.lookup(hashLicenseKey(seeded[0]!.key)!, null)]);
    expect(failing.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    const ok = await batcher.lookup(hashLicenseKey(seeded[1]!.key)!, null);
    expect(ok?.id).toBe(seeded[1]!.id);
  });
});

describe("batched last-seen writes", () => {
  it("marks 300 concurrent touches each on its own row, refreshing only what was sent, in fewer statements", async () => {
    const plan = await makePlan(database.db, { seats: 300 });
    const { license } = await makeLicense(database.db, { planId: plan.id });
    const rows = await database.db
      .insert(activations)
      .values(Array.from({ length: 150 }, (_, n) => ({ licenseId: license.id, fingerprint: `touch-${n}`, name: `old-${n}`, platform: "linux", metadata: { n } })))
      .returning();
    const batcher = touchBatcher(database.pool);
    const before = { ...batcher.stats };
    const at = new Date(Date.now() + 60_000);
    // Each activation twice at once: once with details, once without (which must not blank them).
    const results = await Promise.all(
      rows.flatMap((row, n) => [
        touchActivation(database.db, row.id, at, n % 2 ? { name: `new-${n}`, metadata: { n, again: true } } : {}),
        touchActivation(database.db, row.id, at),
      ]),
    );
    results.forEach((touched, n) => {
      const row = rows[n >> 1]!;
      // The same row twice in one batch is written once: the other touch answers null (its caller retries).
      if (touched) expect(touched).toMatchObject({ id: row.id, fingerprint: row.fingerprint, lastSeenAt: at });
    });
    for (const row of rows) expect(results.filter((t) => t?.id === row.id).length, row.fingerprint).toBeGreaterThanOrEqual(1);

    const stored = await database.db.select().from(activations).where(eq(activations.licenseId, license.id));
    const byId = new Map(stored.map((a) => [a.id, a]));
    rows.forEach((row, n) => {
      const now = byId.get(row.id)!;
      expect(now.lastSeenAt).toEqual(at);
      expect(now.platform).toBe("linux");
      // Details change only by the touch that sent them, and only if that touch wrote the row.
      const refreshed = n % 2 === 1 && results[2 * n] !== null;
      expect([now.name, now.metadata], row.fingerprint).toEqual(refreshed ? [`new-${n}`, { n, again: true }] : [`old-${n}`, { n }]);
    });
    const touches = batcher.stats.lookups - before.lookups;
    const statements = batcher.stats.queries - before.queries;
    expect(touches).toBe(300);
    expect(statements).toBeLessThan(touches / 4);
  });

  it("answers null for an activation deleted since it was read, and writes nothing for it", async () => {
    const plan = await makePlan(database.db, { seats: 2 });
    const { license } = await makeLicense(database.db, { planId: plan.id });
    const [kept, gone] = await database.db
      .insert(activations)
      .values([{ licenseId: license.id, fingerprint: "kept" }, { licenseId: license.id, fingerprint: "gone" }])
      .returning();
    await database.db.delete(activations).where(eq(activations.id, gone!.id));
    const at = new Date(Date.now() + 120_000);
    const [a, b] = await Promise.all([touchActivation(database.db, kept!.id, at), touchActivation(database.db, gone!.id, at, { name: "x" })]);
    expect(a?.lastSeenAt).toEqual(at);
    expect(b).toBeNull();
    expect(await database.db.select().from(activations).where(eq(activations.licenseId, license.id))).toHaveLength(1);
  });
});
