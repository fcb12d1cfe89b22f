"use client";

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import {
  Button,
  EmptyState,
  ErrorState,
  Field,
  LinkButton,
  LoadingState,
  PageHeader,
  StatusBadge,
  Table,
  formatDate,
  inputClass,
  monoClass,
  mutedClass,
} from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { LicenseStatus } from "@/server/db/schema/licenses";
import type { LicenseSearchField, SearchReading } from "@/server/domain/admin/search";
import { keyHintText, LoadMore, partsCss as css } from "./_parts/ui";
import { orUndefined, useSearchFilters } from "./_parts/use-search-filters";

// Spelled out here rather than imported: the schema module would pull the database layer into the browser bundle.
export const LICENSE_STATUSES = ["active", "past_due", "suspended", "revoked", "expired"] as const satisfies readonly LicenseStatus[];

const FIELDS: { value: LicenseSearchField; label: string }[] = [
  { value: "auto", label: "Anything" },
  { value: "key", label: "Key or key hint" },
  { value: "email", label: "Email (start)" },
  { value: "fingerprint", label: "Fingerprint" },
  { value: "customer", label: "Customer" },
];

function readingText(r: SearchReading): string {
  switch (r.by) {
    case "key":
      return "the full key";
    case "hint":
      return `keys ending in ${r.hint}`;
    case "email":
      return `emails starting with “${r.prefix}”`;
    case "fingerprint":
      return `devices with fingerprint “${r.fingerprint}”`;
    case "id":
      return "that license or customer id";
  }
}

export function LicensesList() {
  const trpc = useTRPC();
  const [filters, setFilters] = useSearchFilters(["q", "field", "status", "product", "plan", "customer"] as const);
  const [text, setText] = useState(filters.q);
  useEffect(() => setText(filters.q), [filters.q]);

  const catalog = useQuery(trpc.catalog.list.queryOptions());
  const input = {
    q: filters.q || undefined,
    field: orUndefined<LicenseSearchField>(filters.field),
    status: orUndefined<LicenseStatus>(filters.status),
    product: filters.product || undefined,
    plan: filters.plan || undefined,
    customerId: filters.customer || undefined,
    limit: 25,
  };
  const search = useInfiniteQuery(
    trpc.licenses.search.infiniteQueryOptions(input, { getNextPageParam: (last) => last.nextCursor ?? undefined }),
  );
  const rows = search.data?.pages.flatMap((p) => p.data) ?? [];
  const moreError = search.isFetchNextPageError ? search.error : undefined;
  const readings = search.data?.pages[0]?.readings ?? [];
  const filtered = Boolean(filters.q || filters.status || filters.product || filters.plan || filters.customer);
  const plans = (catalog.data?.plans ?? []).filter((p) => !filters.product || p.product === filters.product);

  return (
    <>
      <PageHeader
        title="Licenses"
        description="Find a license by its key (or the five characters after …-), the customer's email, a device fingerprint or a customer id."
        actions={
          <LinkButton href="/admin/licenses/new" variant="primary">
            Issue a license
          </LinkButton>
        }
      />

      <form
        role="search"
        className={css.filters}
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ q: text.trim() });
        }}
      >
        <div className={css.filtersWide}>
          <Field label="Search" htmlFor="license-q">
            <input
              id="license-q"
              name="q"
              className={inputClass}
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder="Key, …-ABCDE, email, fingerprint, id"
              autoComplete="off"
              spellCheck={false}
            />
          </Field>
        </div>
        <Field label="Search in" htmlFor="license-field">
          <select id="license-field" className={inputClass} value={filters.field || "auto"} onChange={(e) => setFilters({ field: e.target.value === "auto" ? "" : e.target.value })}>
            {FIELDS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Status" htmlFor="license-status">
          <select id="license-status" className={inputClass} value={filters.status} onChange={(e) => setFilters({ status: e.target.value })}>
            <option value="">Any status</option>
            {LICENSE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace("_", " ")}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Product" htmlFor="license-product">
          <select
            id="license-product"
            className={inputClass}
            value={filters.product}
            onChange={(e) => setFilters({ product: e.target.value, plan: "" })}
          >
            <option value="">Any product</option>
            {catalog.data?.products.map((p) => (
              <option key={p.id} value={p.slug}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Plan" htmlFor="license-plan">
          <select id="license-plan" className={inputClass} value={filters.plan} onChange={(e) => setFilters({ plan: e.target.value })}>
            <option value="">Any plan</option>
            {plans.map((p) => (
              <option key={p.id} value={p.slug}>
                {p.name} ({p.product})
              </option>
            ))}
          </select>
        </Field>
        <div className={css.filterActions}>
          <Button type="submit" variant="primary">
            Search
          </Button>
          {filtered && (
            <Button
              onClick={() => {
                setText("");
                setFilters({ q: "", field: "", status: "", product: "", plan: "", customer: "" });
              }}
            >
              Clear
            </Button>
          )}
        </div>
      </form>

      {filters.q && readings.length > 0 && (
        <p className={`${mutedClass} ${css.small}`}>
          Showing licenses matching {readings.map(readingText).join(", or ")}, by customer email.
        </p>
      )}
      {filters.customer && <p className={`${mutedClass} ${css.small}`}>Only the licenses of one customer.</p>}

      {search.isPending ? (
        <LoadingState label="Searching licenses…" />
      ) : search.isError && !search.isFetchNextPageError ? (
        <ErrorState title="Could not search licenses." error={search.error} onRetry={() => void search.refetch()} />
      ) : rows.length === 0 ? (
        filtered ? (
          <EmptyState title="No license matches.">
            {filters.q && readings.length === 0
              ? "That is not a key or the last five characters of one: try “Anything” in Search in."
              : "Check the spelling, or clear a filter."}
          </EmptyState>
        ) : (
          <EmptyState title="No licenses yet." action={<LinkButton href="/admin/licenses/new">Issue one by hand</LinkButton>}>
            Licenses appear here when Stripe checkouts complete, or when you issue one.
          </EmptyState>
        )
      ) : (
        <>
          <Table label="Licenses">
            <thead>
              <tr>
                <th>Key</th>
                <th>Customer</th>
                <th>Product · plan</th>
                <th>Status</th>
                <th>Devices</th>
                <th>Expires</th>
                <th>Issued</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((l) => (
                <tr key={l.id}>
                  <td className={css.nowrap}>
                    <Link href={`/admin/licenses/${l.id}`} className={monoClass}>
                      {keyHintText(l.keyHint)}
                    </Link>
                  </td>
                  <td>
                    <Link href={`/admin/customers/${l.customer.id}`}>{l.customer.email}</Link>
                  </td>
                  <td>
                    {l.product.name} · {l.plan.name}
                  </td>
                  <td>
                    <StatusBadge status={l.status} />
                  </td>
                  <td className={css.nowrap}>
                    {l.activations} / {l.maxActivations}
                  </td>
                  <td className={css.nowrap}>{l.expiresAt ? formatDate(l.expiresAt) : "never"}</td>
                  <td className={css.nowrap}>{formatDate(l.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
          <LoadMore
            hasNextPage={search.hasNextPage}
            isFetchingNextPage={search.isFetchingNextPage}
            fetchNextPage={search.fetchNextPage}
            error={moreError}
          />
        </>
      )}
    </>
  );
}
