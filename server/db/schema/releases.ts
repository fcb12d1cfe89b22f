import { sql } from "drizzle-orm";
import { bigint, index, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, ts } from "./_columns";
import { products } from "./products";

export const RELEASE_CHANNELS = ["stable", "beta"] as const;
export type ReleaseChannel = (typeof RELEASE_CHANNELS)[number];

/**
 * A downloadable build of a product (server/domain/releases). Either a file uploaded through the admin app or
 * the management API, kept under DATA_DIR, or an external URL the signed download link redirects to.
 */
export const releases = pgTable(
  "releases",
  {
    id: id(),
    productId: uuid("product_id")
      .notNull()
      .references(() => products.id),
    /** A semantic version ("1.4.0", "2.0.0-beta.3"); "newest" is semver order, not upload order. */
    version: text("version").notNull(),
    channel: text("channel").$type<ReleaseChannel>().notNull(),
    /** Free-form ("windows-x64", "macos-arm64"); null: one build for every platform. */
    platform: text("platform"),
    /** Only licenses whose plan grants this entitlement may download it; null: any license of the product. */
    entitlement: text("entitlement"),
    notes: text("notes"),
    /** The uploaded file's own name, for Content-Disposition. Null for an external URL. */
    fileName: text("file_name"),
    /** Path of the file relative to DATA_DIR (releases/<id>); null for an external URL. */
    storagePath: text("storage_path"),
    /** Where an external release lives; the signed link redirects there after its checks. */
    externalUrl: text("external_url"),
    /** Hex sha256 of the uploaded file, computed while it streamed in; null for an external URL. */
    sha256: text("sha256"),
    size: bigint("size", { mode: "number" }),
    createdAt: createdAt(),
    /** A yanked release is offered to nobody and its links stop working; the row and file stay. */
    yankedAt: ts("yanked_at"),
  },
  (t) => [
    // One build per product, version and platform (a null platform counts as one platform of its own).
    uniqueIndex("releases_product_version_platform_unique").on(t.productId, t.version, sql`coalesce(${t.platform}, '')`),
    index("releases_product_idx").on(t.productId, t.createdAt),
  ],
);
