import { eq, type SQL } from "drizzle-orm";
import { activations, licenses, plans, products, type LicenseStatus } from "@/server/db/schema";
import type { Pool } from "pg";
import type { Db, Tx } from "@/server/db/client";
import type { Actor } from "@/server/domain/audit/record";
import { AppError } from "@/server/domain/errors";
import { ACTIVE_KID_SQL } from "@/server/domain/tokens/keyring";
import { effectiveStatus, isExpired } from "./expiry";
import { KeyLookupBatcher } from "./lookup-batch";
import type { ActivationView, LicenseView } from "./view";

/**
 * Finding a license by its key for the public routes, and the status rules every one of them applies.
 * validate, heartbeat (one read) and activate, deactivate (inside their transaction) all start here.
 */

/** What the client-facing rules need to know about a license, with its plan and product. */
export type LicenseRecord = {
  id: string;
  status: LicenseStatus;
  maxActivations: number;
  expiresAt: Date | null;
  customerId: string;
  plan: string;
  product: string;
  entitlements: string[];
  graceDays: number;
  offlineTokenTtlSeconds: number | null;
  heartbeatWindowSeconds: number | null;
  /** Read under the activation lock only (not by the validate hot path): "trial" licenses pay the machine check. */
  source?: string;
  productId?: string;
};

export type ActivationRecord = {
  id: string;
  fingerprint: string;
  name: string | null;
  platform: string | null;
  createdAt: Date;
  lastSeenAt: Date;
};

/** The columns of a LicenseRecord, for every reader that selects licenses with their plan and product. */
export const licenseColumns = {
  id: licenses.id,
  status: licenses.status,
  maxActivations: licenses.maxActivations,
  expiresAt: licenses.expiresAt,
  customerId: licenses.customerId,
  plan: plans.slug,
  product: products.slug,
  entitlements: plans.entitlements,
  graceDays: plans.graceDays,
  offlineTokenTtlSeconds: plans.offlineTokenTtlSeconds,
  heartbeatWindowSeconds: plans.heartbeatWindowSeconds,
};

export const activationColumns = {
  id: activations.id,
  fingerprint: activations.fingerprint,
  name: activations.name,
  platform: activations.platform,
  createdAt: activations.createdAt,
  lastSeenAt: activations.lastSeenAt,
};

/**
 * The hot read of POST /validate (and /heartbeat, and /activate of a machine activated before): the licenses
 * behind a list of key hashes, each with its plan, product, number of activations, where a fingerprint is given
 * that machine's activation, and the kid of the key that signs tokens now (no second round trip to sign one). One named
 * statement, parsed and planned once per connection, its rows mapped by hand; `i` says which lookup a row
 * answers. On the pool, concurrent lookups share one execution of it (lookup-batch.ts); measured in
 * test/bench/run.ts.
 */
const lookupSql = (source: string) => `
  select q.i::int as i, l.id, l.status, l.max_activations, l.expires_at, l.customer_id,
         p.slug as plan, pr.slug as product, p.entitlements, p.grace_days,
         p.offline_token_ttl_seconds, p.heartbeat_window_seconds,
         (select count(*)::int from activations c where c.license_id = l.id) as activation_count,
         a.id as a_id, a.fingerprint as a_fingerprint, a.name as a_name, a.platform as a_platform,
         a.created_at as a_created_at, a.last_seen_at as a_last_seen_at,
         (${ACTIVE_KID_SQL}) as signing_kid
    from ${source}
    join licenses l on l.key_hash = q.key_hash
    join plans p on p.id = l.plan_id
    join products pr on pr.id = p.product_id
    left join activations a on a.license_id = l.id and a.fingerprint = q.fingerprint`;
const LOOKUP_SQL = lookupSql("unnest($1::text[], $2::text[]) with ordinality as q(key_hash, fingerprint, i)");
/** The same for one key (lookup-batch.ts says why it is a statement of its own). */
const LOOKUP_ONE = { name: "keystead_license_by_key", text: lookupSql("(select $1::text as key_hash, $2::text as fingerprint, 1 as i) as q") };
const LOOKUP_NAME = "keystead_licenses_by_keys";
/**
 * One key with no fingerprint (validate's usual call): the license columns alone, without the activation join
 * or the signing key's kid, which such a read never uses (a token is only ever signed for a machine). Fewer
 * columns is less for PostgreSQL to plan and send and for pg to describe and parse, on every request: measured
 * 3-5% of a single client's validate latency. `$2` is the absent fingerprint, so both statements take the same
 * parameters.
 */
const LOOKUP_KEY_ONLY = {
  name: "keystead_license_by_key_only",
  text: `
  select 1 as i, l.id, l.status, l.max_activations, l.expires_at, l.customer_id,
         p.slug as plan, pr.slug as product, p.entitlements, p.grace_days,
         p.offline_token_ttl_seconds, p.heartbeat_window_seconds,
         (select count(*)::int from activations c where c.license_id = l.id) as activation_count,
         $2::text as a_id
    from licenses l
    join plans p on p.id = l.plan_id
    join products pr on pr.id = p.product_id
   where l.key_hash = $1`,
};

type LookupRow = {
  i: number;
  id: string;
  status: LicenseStatus;
  max_activations: number;
  expires_at: Date | null;
  customer_id: string;
  plan: string;
  product: string;
  entitlements: string[];
  grace_days: number;
  offline_token_ttl_seconds: number | null;
  heartbeat_window_seconds: number | null;
  activation_count: number;
  a_id: string | null;
  a_fingerprint: string;
  a_name: string | null;
  a_platform: string | null;
  a_created_at: Date;
  a_last_seen_at: Date;
  signing_kid: string | null;
};

export type LicenseLookup = {
  license: LicenseRecord;
  activations: number;
  activation: ActivationRecord | null;
  /**
   * The key that signs tokens, as of this read (the statement computes it once for its whole batch); read only
   * with a fingerprint, as a token is only signed for a machine (null otherwise).
   */
  signingKid: string | null;
};

// One batcher per pool (tests run several pools in one process).
const batchers = new WeakMap<Pool, KeyLookupBatcher<LookupRow>>();

/** The batcher behind lookups on `pool`: its counters show how many queries served how many lookups. */
export function lookupBatcher(pool: Pool): KeyLookupBatcher<LookupRow> {
  let batcher = batchers.get(pool);
  if (!batcher) {
    batcher = new KeyLookupBatcher<LookupRow>((config) => pool.query<LookupRow>(config), LOOKUP_NAME, LOOKUP_SQL, undefined, undefined, (ask) =>
      ask.fingerprint === null ? LOOKUP_KEY_ONLY : LOOKUP_ONE,
    );
    batchers.set(pool, batcher);
  }
  return batcher;
}

/**
 * One read: the license behind a key hash, its plan and product, its number of activations and, when a
 * fingerprint is given, that machine's activation. Not for decisions that must hold under concurrency
 * (use lockLicenseByKeyHash in a transaction).
 */
export async function lookupLicense(db: Db, keyHash: string, fingerprint?: string): Promise<LicenseLookup | null> {
  const client = db.$client;
  const r =
    "release" in client
      ? // A checked-out client (a transaction, a test's connection): its own query, on its own snapshot.
        (await client.query<LookupRow>({ ...LOOKUP_ONE, values: [keyHash, fingerprint ?? null] })).rows[0]
      : await lookupBatcher(client).lookup(keyHash, fingerprint ?? null);
  if (!r) return null;
  return {
    license: {
      id: r.id,
      status: r.status,
      maxActivations: r.max_activations,
      expiresAt: r.expires_at,
      customerId: r.customer_id,
      plan: r.plan,
      product: r.product,
      entitlements: r.entitlements,
      graceDays: r.grace_days,
      offlineTokenTtlSeconds: r.offline_token_ttl_seconds,
      heartbeatWindowSeconds: r.heartbeat_window_seconds,
    },
    activations: r.activation_count,
    activation: r.a_id
      ? { id: r.a_id, fingerprint: r.a_fingerprint, name: r.a_name, platform: r.a_platform, createdAt: r.a_created_at, lastSeenAt: r.a_last_seen_at }
      : null,
    signingKid: r.signing_kid ?? null,
  };
}

/**
 * The license behind a key hash, locked FOR UPDATE until the transaction ends: racing activations of one
 * license queue here, so each one counts the seats after the previous one committed.
 */
export function lockLicenseByKeyHash(tx: Tx, keyHash: string): Promise<LicenseRecord | null> {
  return lockLicenseWhere(tx, eq(licenses.keyHash, keyHash));
}

/** The same lock, by license id (doors that name a license, not a key: activation files). */
export function lockLicenseById(tx: Tx, id: string): Promise<LicenseRecord | null> {
  return lockLicenseWhere(tx, eq(licenses.id, id));
}

async function lockLicenseWhere(tx: Tx, where: SQL): Promise<LicenseRecord | null> {
  const [row] = await tx
    .select({ ...licenseColumns, source: licenses.source, productId: products.id })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .where(where)
    .for("update", { of: licenses });
  return row ?? null;
}

/** Why this license may not be used right now, in the contract's order; null when it may (past_due is grace). */
export function blockingCode(license: LicenseRecord, at: Date): "REVOKED" | "SUSPENDED" | "EXPIRED" | null {
  if (license.status === "revoked") return "REVOKED";
  if (license.status === "suspended") return "SUSPENDED";
  if (isExpired(license, at)) return "EXPIRED";
  return null;
}

export function toLicenseView(license: LicenseRecord, activationCount: number, at: Date): LicenseView {
  return {
    id: license.id,
    status: effectiveStatus(license, at),
    product: license.product,
    plan: license.plan,
    expiresAt: license.expiresAt ? license.expiresAt.toISOString() : null,
    entitlements: license.entitlements,
    maxActivations: license.maxActivations,
    activations: activationCount,
  };
}

export function toActivationView(a: ActivationRecord): ActivationView {
  return {
    id: a.id,
    fingerprint: a.fingerprint,
    name: a.name,
    platform: a.platform,
    createdAt: a.createdAt.toISOString(),
    lastSeenAt: a.lastSeenAt.toISOString(),
  };
}

export const BLOCKED_MESSAGES = {
  REVOKED: "This license has been revoked.",
  SUSPENDED: "This license is suspended.",
  EXPIRED: "This license has expired.",
} as const;

/** Refuses a license that may not take activations or tokens right now (403), or one of another product. */
export function assertUsable(license: LicenseRecord, at: Date, product?: string) {
  const blocked = blockingCode(license, at);
  if (blocked) throw new AppError(blocked, BLOCKED_MESSAGES[blocked]);
  if (product !== undefined && product !== license.product) {
    throw new AppError("PRODUCT_MISMATCH", "This license is for another product.");
  }
}

export const licenseNotFound = () => new AppError("NOT_FOUND", "No license matches this key.");

/**
 * Who acts on the public routes: whoever holds the key. That proves possession of a key, not an identity, so
 * audit rows record the system as actor and say which door in `metadata.via`.
 */
export const CLIENT_ACTOR: Actor = { type: "system", id: null };
export const CLIENT_AUDIT_METADATA = { via: "client-api" } as const;
