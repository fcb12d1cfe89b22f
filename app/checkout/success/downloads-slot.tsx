"use client";

/**
 * SLOT for helper "releases": the download links of a license (its product's latest releases it may download).
 * "releases" exports a function listing downloads for a license; render its links here. Until then this shows
 * nothing: the success page and the trial page already place it under each license.
 */
export function LicenseDownloads(_props: { licenseId: string }) {
  return null;
}
