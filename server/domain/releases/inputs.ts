import semver from "semver";
import { z } from "zod";
import { RELEASE_CHANNELS } from "@/server/db/schema";
import { Slug } from "@/server/domain/catalog/products";
import { storableText } from "@/server/domain/admin/text";
import { FingerprintInput, LicenseKeyInput } from "@/server/domain/licensing/inputs";

/**
 * The shapes of the releases routes, defined once: the management API (multipart fields), the admin app's
 * upload, the public `POST /api/v1/releases/latest`, and their answers (for the OpenAPI document).
 */

export const ReleaseChannel = z.enum(RELEASE_CHANNELS);

/** A semantic version, stored in its clean form ("v1.2.3" becomes "1.2.3"). */
export const ReleaseVersion = z
  .string()
  .trim()
  .max(100)
  .transform((v, ctx) => {
    const clean = semver.valid(v);
    if (!clean) {
      ctx.addIssue({ code: "custom", message: `must be a semantic version such as 1.4.0 or 2.0.0-beta.1, got "${v}"` });
      return z.NEVER;
    }
    return clean;
  });

/** "windows-x64", "macos-arm64", "linux": lowercase, so a client's spelling cannot miss a build. */
export const ReleasePlatform = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "Use 1 to 64 characters: lowercase letters, digits, dots, dashes and underscores.");

const emptyAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

/**
 * The text fields of `POST /api/v1/admin/releases` (multipart/form-data) and of the admin app's upload form.
 * The file itself (or `url`) is checked by the upload code: exactly one of the two.
 */
export const CreateReleaseFields = z.strictObject({
  product: Slug,
  version: ReleaseVersion,
  channel: z.preprocess(emptyAsUndefined, ReleaseChannel.default("stable")),
  platform: z.preprocess(emptyAsUndefined, ReleasePlatform.optional()),
  entitlement: z.preprocess(emptyAsUndefined, storableText(1, 100).optional()),
  notes: z.preprocess(emptyAsUndefined, storableText(1, 10_000).optional()),
  url: z.preprocess(
    emptyAsUndefined,
    z
      .url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" })
      .max(2000)
      .optional(),
  ),
});
export type CreateReleaseFields = z.infer<typeof CreateReleaseFields>;

/** `GET /api/v1/admin/releases?product=`: every release, or one product's. */
export const ListReleasesQuery = z.strictObject({ product: Slug.optional() });
export type ListReleasesQuery = z.infer<typeof ListReleasesQuery>;

/** `POST /api/v1/releases/latest`: what the seller's own updater sends. Unknown keys are stripped. */
export const LatestReleaseInput = z.object({
  key: LicenseKeyInput,
  fingerprint: FingerprintInput,
  channel: ReleaseChannel.optional(),
  platform: ReleasePlatform.optional(),
});
export type LatestReleaseInput = z.infer<typeof LatestReleaseInput>;

export const ReleaseIdInput = z.strictObject({ releaseId: z.uuid() });

/** A release as the management API and the admin app show it. */
export const ReleaseView = z.object({
  id: z.uuid(),
  product: z.string(),
  version: z.string(),
  channel: ReleaseChannel,
  platform: z.string().nullable(),
  entitlement: z.string().nullable(),
  notes: z.string().nullable(),
  fileName: z.string().nullable(),
  /** Hex sha256 of the uploaded file; null for an external URL. */
  sha256: z.string().nullable(),
  size: z.number().nullable(),
  externalUrl: z.string().nullable(),
  createdAt: z.string(),
  yankedAt: z.string().nullable(),
});
export type ReleaseView = z.infer<typeof ReleaseView>;

/** What a licensee sees of a release (no external URL: the signed link leads there). */
export const PublicReleaseView = ReleaseView.omit({ externalUrl: true, yankedAt: true, entitlement: true });
export type PublicReleaseView = z.infer<typeof PublicReleaseView>;

export const CreateReleaseOutput = z.object({ release: ReleaseView });
export const ListReleasesOutput = z.object({ data: z.array(ReleaseView) });
/** `POST /api/v1/releases/latest` 200: the newest release this license may have, and a short-lived link to it. */
export const LatestReleaseOutput = z.object({ release: PublicReleaseView, url: z.string(), expiresAt: z.string() });
export type LatestReleaseOutput = z.infer<typeof LatestReleaseOutput>;
