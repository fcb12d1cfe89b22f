"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { EmptyState, ErrorState, Field, Ident, LoadingState, PageHeader, Table, formatDate, inputClass } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import { FilterBar, LoadMore, partsCss as css } from "../licenses/_parts/ui";
import { useSearchFilters } from "../licenses/_parts/use-search-filters";

export function CustomersList() {
  const trpc = useTRPC();
  const [filters, setFilters] = useSearchFilters(["q"] as const);
  const [text, setText] = useState(filters.q);
  useEffect(() => setText(filters.q), [filters.q]);
  const search = useInfiniteQuery(
    trpc.customers.search.infiniteQueryOptions({ q: filters.q || undefined, limit: 25 }, { getNextPageParam: (last) => last.nextCursor ?? undefined }),
  );
  const rows = search.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <>
      <PageHeader title="Customers" description="Everyone who bought or was given a license, by email." />
      <FilterBar
        submitLabel="Search"
        onSubmit={() => setFilters({ q: text.trim() })}
        onClear={
          filters.q
            ? () => {
                setText("");
                setFilters({ q: "" });
              }
            : undefined
        }
      >
        <div className={css.filtersWide}>
          <Field label="Search" htmlFor="customer-q">
            <input
              id="customer-q"
              className={inputClass}
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder="Start of an email, a customer id or cus_…"
              autoComplete="off"
              spellCheck={false}
            />
          </Field>
        </div>
      </FilterBar>

      {search.isPending ? (
        <LoadingState label="Loading customers…" />
      ) : search.isError && !search.isFetchNextPageError ? (
        <ErrorState title="Could not load customers." error={search.error} onRetry={() => void search.refetch()} />
      ) : rows.length === 0 ? (
        filters.q ? (
          <EmptyState title="No customer matches.">No email starts with “{filters.q}”, and no customer has that id.</EmptyState>
        ) : (
          <EmptyState title="No customers yet.">A customer appears with their first license (a Stripe checkout, or one you issue).</EmptyState>
        )
      ) : (
        <>
          <Table label="Customers" cardsOnPhone>
            <thead>
              <tr>
                <th>Email</th>
                <th>Name</th>
                <th>Licenses</th>
                <th>Stripe customer</th>
                <th>Since</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id}>
                  <td data-label="Email">
                    <Link href={`/admin/customers/${c.id}`}>{c.email}</Link>
                  </td>
                  <td data-label="Name">{c.name ?? "—"}</td>
                  <td data-label="Licenses">{c.licenses}</td>
                  <td data-label="Stripe customer">{c.stripeCustomerId ? <Ident>{c.stripeCustomerId}</Ident> : "—"}</td>
                  <td data-label="Since" className={css.nowrap}>{formatDate(c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          <LoadMore list={search} />
        </>
      )}
    </>
  );
}
