import { desc, eq, type SQL } from "drizzle-orm";
import { licenses, plans, products } from "@/server/db/schema";
import type { Db, DbOrTx } from "@/server/db/client";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { lookupKeyHash } from "@/server/domain/licensing/license-key";
import { assertUsable, blockingCode, licenseColumns, licenseNotFound, lookupLicense, type LicenseRecord } from "@/server/domain/licensing/lookup";
import { liveReleasesOf, toPublicReleaseView, type ReleaseRecord } from "./catalog";
import type { LatestReleaseInput, LatestReleaseOutput, PublicReleaseView } from "./inputs";
import { signDownloadLink } from "./links";

/**
 * Who may download what. A license may download a release of its own product when it is usable (the same
 * status and expiry rules as validate and activate: suspended, revoked and expired get nothing) and, if the
 * release names an entitlement, its plan grants that entitlement. The public latest route also needs the
 * machine to be activated on the license, like heartbeat.
 */

/** Why `license` may not have `release` now (an AppError to throw), or null when it may. */
export function downloadRefusal(license: LicenseRecord, release: ReleaseRecord, at: Date): AppError | null {
  try {
    assertUsable(license, at, release.product);
  } catch (err) {
    return err as AppError;
  }
  if (release.entitlement && !license.entitlements.includes(release.entitlement)) {
    return new AppError("FORBIDDEN", `This license does not include "${release.entitlement}", which this release needs.`);
  }
  return null;
}

/** The channel rule: the stable channel offers stable releases; the beta channel offers beta and stable ones. */
const inChannel = (release: ReleaseRecord, channel: "stable" | "beta") => channel === "beta" || release.channel === "stable";

/**
 * The platform rule: a release for every platform (null) suits any request; a release for one platform suits
 * only a request naming it. A request naming no platform gets only releases for every platform.
 */
const forPlatform = (release: ReleaseRecord, platform: string | undefined) => release.platform === null || release.platform === platform;

/**
 * POST /api/v1/releases/latest: the newest release (semantic-version order) that this activated machine's
 * license may download on the channel and platform asked for, with a signed link to it.
 */
export async function latestRelease(db: Db, input: LatestReleaseInput): Promise<LatestReleaseOutput> {
  const keyHash = lookupKeyHash(input.key);
  if (!keyHash) throw licenseNotFound();
  const found = await lookupLicense(db, keyHash, input.fingerprint);
  if (!found) throw licenseNotFound();
  const at = now();
  assertUsable(found.license, at);
  if (!found.activation) throw new AppError("NOT_ACTIVATED", "This machine is not activated on this license.");

  const channel = input.channel ?? "stable";
  const newest = (await liveReleasesOf(db, found.license.product)).find(
    (r) => inChannel(r, channel) && forPlatform(r, input.platform) && !downloadRefusal(found.license, r, at),
  );
  if (!newest) {
    throw new AppError(
      "NOT_FOUND",
      `No ${channel} release of ${found.license.product}${input.platform ? ` for ${input.platform}` : ""} is available to this license.`,
    );
  }
  const link = signDownloadLink(newest.id, found.license.id);
  return { release: toPublicReleaseView(newest), url: link.url, expiresAt: link.expiresAt.toISOString() };
}


async function selectLicenses(db: DbOrTx, where: SQL): Promise<LicenseRecord[]> {
  return db
    .select(licenseColumns)
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .where(where)
    .orderBy(desc(licenses.createdAt), desc(licenses.id));
}

/** One license's current record, read when a signed link is used (never trusted from the link). */
export async function findLicenseForDownload(db: DbOrTx, licenseId: string): Promise<LicenseRecord | null> {
  const [row] = await selectLicenses(db, eq(licenses.id, licenseId));
  return row ?? null;
}

export type LicenseDownload = { release: PublicReleaseView; url: string; expiresAt: string };
export type LicenseDownloads = { licenseId: string; product: string; downloads: LicenseDownload[] };

/**
 * What a license may download now, with a fresh signed link for each: the newest release per channel and
 * platform, newest version first. A license that may not be used (suspended, revoked, expired) gets an empty
 * list. For the portal and the checkout success page; the caller decides whose licenses it shows.
 */
export async function downloadsForLicense(db: DbOrTx, license: LicenseRecord, at = now()): Promise<LicenseDownloads> {
  const out: LicenseDownloads = { licenseId: license.id, product: license.product, downloads: [] };
  if (blockingCode(license, at)) return out;
  const seen = new Set<string>();
  for (const r of await liveReleasesOf(db, license.product)) {
    const slot = `${r.channel}\0${r.platform ?? ""}`;
    if (seen.has(slot) || downloadRefusal(license, r, at)) continue;
    seen.add(slot);
    const link = signDownloadLink(r.id, license.id);
    out.downloads.push({ release: toPublicReleaseView(r), url: link.url, expiresAt: link.expiresAt.toISOString() });
  }
  return out;
}

/** The downloads of one license by id (the checkout success page names the licenses its session issued). */
export async function listLicenseDownloads(db: DbOrTx, licenseId: string): Promise<LicenseDownloads | null> {
  const license = await findLicenseForDownload(db, licenseId);
  return license ? downloadsForLicense(db, license) : null;
}

/** Every license of one customer (from the session, never from input) with what it may download. */
export async function listCustomerDownloads(db: DbOrTx, customerId: string | null): Promise<LicenseDownloads[]> {
  if (!customerId) return [];
  const at = now();
  const owned = await selectLicenses(db, eq(licenses.customerId, customerId));
  return Promise.all(owned.map((l) => downloadsForLicense(db, l, at)));
}
