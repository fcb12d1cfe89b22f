"use client";

import type { LicenseDownload } from "@/server/domain/releases/access";
import css from "@/app/pricing/shop.module.css";

const sizeText = (bytes: number) => (bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1000))} KB`);

/**
 * The download links of a license (the newest release per channel and platform it may download), each a
 * short-lived signed link (server/domain/releases/links.ts) that checks the license again when used.
 */
export function LicenseDownloads({ downloads }: { licenseId: string; downloads?: LicenseDownload[] }) {
  if (!downloads || downloads.length === 0) return null;
  return (
    <div>
      <p className={css.label}>Download</p>
      <ul style={{ margin: 0, paddingLeft: "1.1rem", display: "grid", gap: "0.35rem" }} aria-label="Downloads">
        {downloads.map((d) => (
          <li key={d.release.id}>
            <a href={d.url} download>
              {d.release.fileName ?? `Version ${d.release.version}`}
            </a>
            <span style={{ color: "#52525b" }}>
              {` · ${d.release.version}${d.release.channel === "beta" ? " beta" : ""} · ${d.release.platform ?? "every platform"}`}
              {d.release.size !== null && ` · ${sizeText(d.release.size)}`}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
