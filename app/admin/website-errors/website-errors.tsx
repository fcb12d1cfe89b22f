"use client";

import { useQuery } from "@tanstack/react-query";
import { EmptyState, ErrorState, LoadingState, PageHeader, formatDateTime } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import css from "./website-errors.module.css";

/** Errors a storefront reported (POST /api/v1/report-website-error, as the Key Commander template sends them). */
export function WebsiteErrors() {
  const trpc = useTRPC();
  const list = useQuery(trpc.websiteErrors.list.queryOptions({ limit: 100 }, { refetchInterval: 60_000 }));
  return (
    <>
      <PageHeader title="Website errors" description="Errors your storefront reported, newest first (the last 100)." />
      {list.isPending ? (
        <LoadingState label="Loading website errors…" />
      ) : list.isError ? (
        <ErrorState title="Could not load website errors." error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <EmptyState title="No website errors">
          Nothing reported yet. A storefront reports here with POST /api/v1/report-website-error (behind INTERNAL_API_KEY).
        </EmptyState>
      ) : (
        <ul className={css.list} aria-label="Website errors">
          {list.data.map((e) => (
            <li key={e.id} className={css.item}>
              <div className={css.head}>
                <strong className={css.summary}>{e.errorSummary}</strong>
                <time dateTime={e.createdAt} className={css.meta}>
                  {formatDateTime(e.createdAt)}
                </time>
              </div>
              <div className={css.meta}>
                {[e.productId, e.clientVersion && `version ${e.clientVersion}`, e.userIdentifier ?? "anonymous"].filter(Boolean).join(" · ")}
              </div>
              {e.errorDetails && (
                <details className={css.details}>
                  <summary>Details</summary>
                  <pre>{e.errorDetails}</pre>
                </details>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
