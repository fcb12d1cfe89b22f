"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { EmptyState, ErrorState, Field, LoadingState, PageHeader, StatusBadge, Table, formatDateTime, inputClass, monoClass, mutedClass } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { StripeEventStatus } from "@/server/db/schema/stripe-events";
import { FilterBar, FilterSelect, LoadMore, partsCss as css } from "../licenses/_parts/ui";
import { orUndefined, useSearchFilters } from "../licenses/_parts/use-search-filters";

const STATUSES = ["pending", "processed", "ignored", "failed"] as const satisfies readonly StripeEventStatus[];

export function StripeEventsList() {
  const trpc = useTRPC();
  const [filters, setFilters] = useSearchFilters(["status", "type", "q"] as const);
  const [q, setQ] = useState(filters.q);
  const [type, setType] = useState(filters.type);
  useEffect(() => {
    setQ(filters.q);
    setType(filters.type);
  }, [filters.q, filters.type]);
  const list = useInfiniteQuery(
    trpc.stripeEvents.list.infiniteQueryOptions(
      { status: orUndefined<StripeEventStatus>(filters.status), type: filters.type || undefined, q: filters.q || undefined, limit: 25 },
      { getNextPageParam: (last) => last.nextCursor ?? undefined, refetchInterval: 15_000 },
    ),
  );
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  const filtered = Boolean(filters.status || filters.type || filters.q);

  return (
    <>
      <PageHeader
        title="Stripe events"
        description="Every event Stripe sent (or reconciliation found), what processing made of it, and a replay for the ones that failed."
      />
      <FilterBar
        onSubmit={() => setFilters({ q: q.trim(), type: type.trim() })}
        onClear={filtered ? () => setFilters({ status: "", type: "", q: "" }) : undefined}
      >
        <FilterSelect
          id="event-status"
          label="Status"
          value={filters.status}
          onChange={(status) => setFilters({ status })}
          any="Any status"
          choices={STATUSES}
        />
        <Field label="Type" htmlFor="event-type" hint="Exact, or a family ending in a dot: invoice.">
          <input id="event-type" className={inputClass} value={type} onChange={(e) => setType(e.target.value)} placeholder="checkout.session.completed" spellCheck={false} />
        </Field>
        <Field label="Event or object id" htmlFor="event-q">
          <input id="event-q" className={inputClass} value={q} onChange={(e) => setQ(e.target.value)} placeholder="evt_…, cs_…, sub_…" spellCheck={false} />
        </Field>
      </FilterBar>

      {list.isPending ? (
        <LoadingState label="Loading Stripe events…" />
      ) : list.isError && !list.isFetchNextPageError ? (
        <ErrorState title="Could not load Stripe events." error={list.error} onRetry={() => void list.refetch()} />
      ) : rows.length === 0 ? (
        filtered ? (
          <EmptyState title="No event matches these filters." />
        ) : (
          <EmptyState title="No Stripe event has arrived yet.">
            Point a Stripe webhook at /api/stripe/webhook (see <Link href="/admin/setup">Setup</Link>); events show up here as they come.
          </EmptyState>
        )
      ) : (
        <>
          <Table label="Stripe events">
            <thead>
              <tr>
                <th>Event</th>
                <th>Status</th>
                <th>Object</th>
                <th>Attempts</th>
                <th>Received</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Link href={`/admin/stripe-events/${encodeURIComponent(e.id)}`}>{e.type}</Link>
                    <div className={`${monoClass} ${css.small} ${mutedClass}`}>{e.id}</div>
                    {e.lastError && <div className={css.small}>{e.lastError}</div>}
                  </td>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td className={`${monoClass} ${css.small}`}>{e.objectId ?? "—"}</td>
                  <td>{e.attempts}</td>
                  <td className={css.nowrap}>{formatDateTime(e.receivedAt)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          <LoadMore list={list} />
        </>
      )}
    </>
  );
}
