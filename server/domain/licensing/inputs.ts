import { z } from "zod";

/**
 * Inputs of the public license routes, defined once (REST parser, tests, and any future door reuse them).
 * Unknown keys are stripped, not refused: client software in the field evolves slower than this server.
 *
 * Every string is checked for what PostgreSQL cannot store (NUL, lone UTF-16 surrogates): letting one through
 * would turn a malformed request into a 500.
 */

const storable = (s: string) => !s.includes("\u0000") && s.isWellFormed();
const STORABLE_MESSAGE = "must not contain NUL characters or unpaired surrogates";

const text = (min: number, max: number) => z.string().min(min).max(max).refine(storable, STORABLE_MESSAGE);

/**
 * A license key as typed. Any storable string is accepted: one that can never be a key simply matches nothing
 * (validate answers NOT_FOUND), which is what client software expects for "wrong key".
 */
export const LicenseKeyInput = text(1, 100);

/** Opaque machine identifier chosen by the client software; compared byte for byte. */
export const FingerprintInput = text(1, 256);

export const ProductSlugInput = text(1, 100);

export const EntitlementsInput = z.array(text(1, 100)).max(100);

const optionalLabel = text(0, 200)
  .nullish()
  .transform((v) => v ?? undefined);

const METADATA_MAX_BYTES = 4096;
const METADATA_MAX_DEPTH = 8;

/**
 * Checks nesting depth before anything serialises the value: a few KB of "[[[[..." parse fine but blow the
 * stack in JSON.stringify. Returns a problem description or null.
 */
function metadataProblem(value: unknown, depth = 0): string | null {
  if (depth > METADATA_MAX_DEPTH) return `must be nested at most ${METADATA_MAX_DEPTH} levels deep`;
  if (typeof value === "string") return storable(value) ? null : `strings ${STORABLE_MESSAGE}`;
  if (value === null || typeof value !== "object") return null;
  const entries = Array.isArray(value) ? value.map((v) => ["", v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    if (!storable(k)) return `keys ${STORABLE_MESSAGE}`;
    const problem = metadataProblem(v, depth + 1);
    if (problem) return problem;
  }
  return null;
}

/** Free-form JSON object the client attaches to an activation, bounded in depth and size. */
export const MetadataInput = z.custom<Record<string, unknown>>().superRefine((value, ctx) => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    ctx.addIssue({ code: "custom", message: "must be a JSON object" });
    return;
  }
  const problem = metadataProblem(value);
  if (problem) {
    ctx.addIssue({ code: "custom", message: problem });
    return;
  }
  if (Buffer.byteLength(JSON.stringify(value)) > METADATA_MAX_BYTES) {
    ctx.addIssue({ code: "custom", message: `must be at most ${METADATA_MAX_BYTES} bytes as JSON` });
  }
});

export const ValidateLicenseInput = z.object({
  key: LicenseKeyInput,
  fingerprint: FingerprintInput.optional(),
  product: ProductSlugInput.optional(),
  entitlements: EntitlementsInput.optional(),
});
export type ValidateLicenseInput = z.infer<typeof ValidateLicenseInput>;

export const ActivateLicenseInput = z.object({
  key: LicenseKeyInput,
  fingerprint: FingerprintInput,
  name: optionalLabel,
  platform: optionalLabel,
  metadata: MetadataInput.nullish().transform((v) => v ?? undefined),
  /** When given, a license of another product is refused with PRODUCT_MISMATCH. */
  product: ProductSlugInput.optional(),
});
export type ActivateLicenseInput = z.infer<typeof ActivateLicenseInput>;

export const DeactivateLicenseInput = z.object({
  key: LicenseKeyInput,
  fingerprint: FingerprintInput,
});
export type DeactivateLicenseInput = z.infer<typeof DeactivateLicenseInput>;

export const HeartbeatInput = z.object({
  key: LicenseKeyInput,
  fingerprint: FingerprintInput,
  product: ProductSlugInput.optional(),
});
export type HeartbeatInput = z.infer<typeof HeartbeatInput>;
