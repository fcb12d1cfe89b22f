"use client";

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import {
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
import { FilterBar, FilterSelect, keyHintText, LoadMore, partsCss as css } from "./_parts/ui";
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

      <FilterBar
        submitLabel="Search"
        onSubmit={() => setFilters({ q: text.trim() })}
        onClear={
          filtered
            ? () => {
                setText("");
                setFilters({ q: "", field: "", status: "", product: "", plan: "", customer: "" });
              }
            : undefined
        }
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
        <FilterSelect
          id="license-status"
          label="Status"
          value={filters.status}
          onChange={(status) => setFilters({ status })}
          any="Any status"
          choices={LICENSE_STATUSES.map((s) => ({ value: s, label: s.replace("_", " ") }))}
        />
        <FilterSelect
          id="license-product"
          label="Product"
          value={filters.product}
          onChange={(product) => setFilters({ product, plan: "" })}
          any="Any product"
          choices={(catalog.data?.products ?? []).map((p) => ({ value: p.slug, label: p.name }))}
        />
        <FilterSelect
          id="license-plan"
          label="Plan"
          value={filters.plan}
          onChange={(plan) => setFilters({ plan })}
          any="Any plan"
          choices={plans.map((p) => ({ value: p.slug, label: `${p.name} (${p.product})` }))}
        />
      </FilterBar>

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
          <Table label="Licenses" cardsOnPhone>
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
                  <td data-label="Key" className={css.nowrap}>
                    <Link href={`/admin/licenses/${l.id}`} className={monoClass}>
                      {keyHintText(l.keyHint)}
                    </Link>
                  </td>
                  <td data-label="Customer">
                    <Link href={`/admin/customers/${l.customer.id}`}>{l.customer.email}</Link>
                  </td>
                  <td data-label="Product · plan">
                    {l.product.name} · {l.plan.name}
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={l.status} />
                  </td>
                  <td data-label="Devices" className={css.nowrap}>
                    {l.activations} / {l.maxActivations}
                  </td>
                  <td data-label="Expires" className={css.nowrap}>{l.expiresAt ? formatDate(l.expiresAt) : "never"}</td>
                  <td data-label="Issued" className={css.nowrap}>{formatDate(l.createdAt)}</td>
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
