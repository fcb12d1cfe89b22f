import fs from "node:fs";
import crypto from "node:crypto";
import { eq } from "drizzle-orm";
import semver from "semver";
import { products, releases } from "@/server/db/schema";
import type { Db, DbOrTx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { findProductBySlug } from "@/server/domain/catalog/products";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { z } from "zod";
import { absolutePath, removeQuietly, storagePathFor } from "./files";
import { CreateReleaseFields, type ListReleasesQuery, type PublicReleaseView, type ReleaseView } from "./inputs";
import { readReleaseUpload, type UploadedFile } from "./upload";

/**
 * Releases of a product: made by an upload (the management API, the admin app) or pointing at an external
 * URL, listed, yanked (offered to nobody, links refused) or deleted (row and file gone).
 */

type ReleaseRow = typeof releases.$inferSelect;
export type ReleaseRecord = ReleaseRow & { product: string };

export const releaseColumns = {
  id: releases.id,
  productId: releases.productId,
  version: releases.version,
  channel: releases.channel,
  platform: releases.platform,
  entitlement: releases.entitlement,
  notes: releases.notes,
  fileName: releases.fileName,
  storagePath: releases.storagePath,
  externalUrl: releases.externalUrl,
  sha256: releases.sha256,
  size: releases.size,
  createdAt: releases.createdAt,
  yankedAt: releases.yankedAt,
  product: products.slug,
};

export function toReleaseView(r: ReleaseRecord): ReleaseView {
  return {
    id: r.id,
    product: r.product,
    version: r.version,
    channel: r.channel,
    platform: r.platform,
    entitlement: r.entitlement,
    notes: r.notes,
    fileName: r.fileName,
    sha256: r.sha256,
    size: r.size,
    externalUrl: r.externalUrl,
    createdAt: r.createdAt.toISOString(),
    yankedAt: r.yankedAt ? r.yankedAt.toISOString() : null,
  };
}

export function toPublicReleaseView(r: ReleaseRecord): PublicReleaseView {
  const { externalUrl: _u, yankedAt: _y, entitlement: _e, ...view } = toReleaseView(r);
  return view;
}

/** Newest first, in semantic-version order (2.0.0 > 2.0.0-beta.2 > 1.10.0 > 1.9.0), then newest upload. */
export function bySemverDesc(a: ReleaseRecord, b: ReleaseRecord): number {
  return semver.rcompare(a.version, b.version) || b.createdAt.getTime() - a.createdAt.getTime();
}

/**
 * Makes a release from a parsed upload: exactly one of a file or `url`. The file moves from its temporary
 * place to DATA_DIR/releases/<id> inside the transaction that writes the row; if the transaction fails the
 * file is removed again, so no file is left without its row.
 */
export async function createRelease(db: Db, actor: Actor, fieldsIn: Record<string, string>, file: UploadedFile | null): Promise<ReleaseView> {
  try {
    const fields = CreateReleaseFields.parse(fieldsIn);
    if (file && fields.url) throw new AppError("BAD_REQUEST", "Send either a file or a url, not both.");
    if (!file && !fields.url) throw new AppError("BAD_REQUEST", "Send the release's file (field \"file\") or its url.");

    const id = crypto.randomUUID();
    const storagePath = file ? storagePathFor(id) : null;
    let moved: string | null = null;
    try {
      return await db.transaction(async (tx) => {
        const product = await findProductBySlug(tx, fields.product);
        if (!product) throw new AppError("PRODUCT_NOT_FOUND", `No product with slug "${fields.product}".`);
        const [row] = await tx
          .insert(releases)
          .values({
            id,
            productId: product.id,
            version: fields.version,
            channel: fields.channel,
            platform: fields.platform ?? null,
            entitlement: fields.entitlement ?? null,
            notes: fields.notes ?? null,
            fileName: file?.fileName ?? null,
            storagePath,
            externalUrl: fields.url ?? null,
            sha256: file?.sha256 ?? null,
            size: file?.size ?? null,
            createdAt: now(),
          })
          // ON CONFLICT instead of catching 23505: a failed statement would poison the transaction.
          .onConflictDoNothing()
          .returning();
        if (!row) {
          throw new AppError(
            "ALREADY_EXISTS",
            `${fields.product} ${fields.version} already has a release${fields.platform ? ` for ${fields.platform}` : " for every platform"}.`,
          );
        }
        const view = toReleaseView({ ...row, product: product.slug });
        await recordAudit(tx, actor, { action: "release.created", subjectType: "release", subjectId: id, after: view });
        if (file && storagePath) {
          moved = absolutePath(storagePath);
          await fs.promises.rename(file.tmpPath, moved);
        }
        return view;
      });
    } catch (err) {
      if (moved) await removeQuietly(moved);
      throw err;
    }
  } finally {
    if (file) await removeQuietly(file.tmpPath);
  }
}

/** The upload door: stream the multipart body to disk, then make the release (management API, admin app). */
export async function uploadRelease(db: Db, actor: Actor, req: Request): Promise<ReleaseView> {
  const { fields, file } = await readReleaseUpload(req);
  return createRelease(db, actor, fields, file);
}

async function selectReleases(db: DbOrTx, where?: ReturnType<typeof eq>): Promise<ReleaseRecord[]> {
  return db.select(releaseColumns).from(releases).innerJoin(products, eq(products.id, releases.productId)).where(where);
}

/** Every release (or one product's), by product, newest version first; yanked ones included (they are marked). */
export async function listReleases(db: DbOrTx, query: ListReleasesQuery = {}): Promise<ReleaseView[]> {
  if (query.product && !(await findProductBySlug(db, query.product))) {
    throw new AppError("PRODUCT_NOT_FOUND", `No product with slug "${query.product}".`);
  }
  const rows = await selectReleases(db, query.product ? eq(products.slug, query.product) : undefined);
  rows.sort((a, b) => a.product.localeCompare(b.product) || bySemverDesc(a, b));
  return rows.map(toReleaseView);
}

/** A product's releases that anyone may still be offered (not yanked), newest version first. */
export async function liveReleasesOf(db: DbOrTx, productSlug: string): Promise<ReleaseRecord[]> {
  const rows = await selectReleases(db, eq(products.slug, productSlug));
  return rows.filter((r) => !r.yankedAt).sort(bySemverDesc);
}

export async function findRelease(db: DbOrTx, releaseId: string): Promise<ReleaseRecord | null> {
  if (!z.uuid().safeParse(releaseId).success) return null;
  const [row] = await selectReleases(db, eq(releases.id, releaseId));
  return row ?? null;
}

const releaseNotFound = () => new AppError("NOT_FOUND", "No release with that id.");

export const SetReleaseYankedInput = z.strictObject({ releaseId: z.uuid(), yanked: z.boolean() });
export type SetReleaseYankedInput = z.infer<typeof SetReleaseYankedInput>;

/** Yanks a release (no one is offered it, its links stop working) or puts it back. */
export async function setReleaseYanked(tx: DbOrTx, actor: Actor, input: SetReleaseYankedInput): Promise<ReleaseView> {
  const before = await findRelease(tx, input.releaseId);
  if (!before) throw releaseNotFound();
  const [row] = await tx
    .update(releases)
    .set({ yankedAt: input.yanked ? (before.yankedAt ?? now()) : null })
    .where(eq(releases.id, input.releaseId))
    .returning();
  const view = toReleaseView({ ...row!, product: before.product });
  await recordAudit(tx, actor, {
    action: input.yanked ? "release.yanked" : "release.restored",
    subjectType: "release",
    subjectId: before.id,
    before: toReleaseView(before),
    after: view,
  });
  return view;
}

/** Deletes a release: its row (with an audit row, one transaction), then its file once that has committed. */
export async function deleteRelease(db: Db, actor: Actor, input: { releaseId: string }): Promise<{ deleted: true }> {
  const gone = await db.transaction(async (tx) => {
    const before = await findRelease(tx, input.releaseId);
    if (!before) throw releaseNotFound();
    await tx.delete(releases).where(eq(releases.id, before.id));
    await recordAudit(tx, actor, { action: "release.deleted", subjectType: "release", subjectId: before.id, before: toReleaseView(before) });
    return before;
  });
  if (gone.storagePath) await removeQuietly(absolutePath(gone.storagePath));
  return { deleted: true };
}
