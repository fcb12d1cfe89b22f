"use client";

import { useState } from "react";
import { LicenseDownloads } from "@/app/checkout/success/downloads-slot";
import type { LicenseDownload } from "@/server/domain/releases/access";
import css from "./shop.module.css";

export type ShownLicense = {
  id: string;
  key: string;
  productName: string;
  planName: string;
  maxActivations: number;
  expiresAt?: string | null;
  trialEndsAt?: string | null;
  downloads?: LicenseDownload[];
};

const day = (iso: string) => new Date(iso).toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });

/** One license as the buyer sees it right after buying (or starting a trial): key, seats, how to activate. */
export function LicenseResult({ license: l }: { license: ShownLicense }) {
  const [copied, setCopied] = useState(false);
  return (
    <article className={css.card} aria-label={`${l.productName} ${l.planName} license`}>
      <h2 style={{ margin: 0, fontSize: "1.2rem" }}>{`${l.productName} · ${l.planName}`}</h2>
      <div>
        <p className={css.label} id={`key-${l.id}`}>
          Your license key
        </p>
        <code className={css.key} aria-labelledby={`key-${l.id}`} data-testid="license-key">
          {l.key}
        </code>
      </div>
      <button
        type="button"
        className={css.secondary}
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(l.key);
            setCopied(true);
          } catch {
            setCopied(false);
          }
        }}
      >
        {copied ? "Copied" : "Copy key"}
      </button>
      <dl className={css.facts}>
        <dt>Devices</dt>
        <dd>{l.maxActivations === 1 ? "1 device" : `${l.maxActivations} devices`}</dd>
        {l.trialEndsAt ? (
          <>
            <dt>Trial ends</dt>
            <dd>{day(l.trialEndsAt)}</dd>
          </>
        ) : (
          <>
            <dt>Valid until</dt>
            <dd>{l.expiresAt ? day(l.expiresAt) : "No end date"}</dd>
          </>
        )}
      </dl>
      <div>
        <p className={css.label}>How to activate</p>
        <ol className={css.steps}>
          <li>{`Open ${l.productName} and choose "Enter license key".`}</li>
          <li>Paste the key above and confirm. The app activates this device.</li>
          <li>{`Use it on up to ${l.maxActivations === 1 ? "1 device" : `${l.maxActivations} devices`}; free a device any time from your account.`}</li>
        </ol>
      </div>
      <LicenseDownloads licenseId={l.id} downloads={l.downloads} />
    </article>
  );
}
