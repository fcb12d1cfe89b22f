"use client";

import { useQuery } from "@tanstack/react-query";
import { ErrorState, LoadingState, formatDate } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import css from "./portal.module.css";
import own from "./downloads.module.css";

// The links live 10 minutes (DOWNLOAD_LINK_TTL): fetch fresh ones well before the shown ones expire.
const REFRESH_MS = 4 * 60_000;

function sizeText(n: number | null): string {
  if (n === null) return "";
  const mb = n / (1024 * 1024);
  return mb >= 1 ? `${mb.toFixed(mb < 10 ? 1 : 0)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

/**
 * What each of the customer's licenses may download (server/domain/releases/access.ts): the newest release per
 * channel and platform, each behind a short-lived signed link checked again when it is used. Licenses that
 * may download nothing (suspended, revoked, expired, or no release yet) are left out.
 */
export function PortalDownloads() {
  const trpc = useTRPC();
  const downloads = useQuery({ ...trpc.portalDownloads.list.queryOptions(), refetchInterval: REFRESH_MS });
  const licenses = useQuery(trpc.portal.licenses.queryOptions());

  if (downloads.isPending) return <LoadingState label="Loading your downloads…" />;
  if (downloads.isError) return <ErrorState title="Could not load your downloads." error={downloads.error} onRetry={() => void downloads.refetch()} />;
  const withFiles = downloads.data.filter((l) => l.downloads.length > 0);
  if (withFiles.length === 0) return null;
  const nameOf = (licenseId: string) => {
    const l = licenses.data?.find((x) => x.id === licenseId);
    return l ? `${l.productName} · ${l.planName}` : null;
  };

  return (
    <section className={own.section} aria-labelledby="downloads-title">
      <h2 id="downloads-title" className={own.title}>
        Downloads
      </h2>
      <div className={css.list}>
        {withFiles.map((l) => (
          <article key={l.licenseId} className={css.license} aria-label={`Downloads for ${nameOf(l.licenseId) ?? l.product}`}>
            <h3 className={css.licenseTitle}>{nameOf(l.licenseId) ?? l.product}</h3>
            <ul className={own.files}>
              {l.downloads.map((d) => (
                <li key={d.release.id} className={own.file}>
                  <div className={own.fileHead}>
                    <a href={d.url} className={own.link} download>
                      {d.release.fileName ?? `${l.product} ${d.release.version}`}
                    </a>
                    <span className={own.meta}>
                      {d.release.version}
                      {d.release.channel === "beta" && " · beta"}
                      {` · ${d.release.platform ?? "every platform"}`}
                      {d.release.size !== null && ` · ${sizeText(d.release.size)}`}
                      {` · ${formatDate(d.release.createdAt)}`}
                    </span>
                  </div>
                  {d.release.notes && <p className={own.notes}>{d.release.notes}</p>}
                  {d.release.sha256 && (
                    <p className={own.hash}>
                      <span className={own.hashLabel}>sha256</span> {d.release.sha256}
                    </p>
                  )}
                </li>
              ))}
            </ul>
          </article>
        ))}
      </div>
    </section>
  );
}
