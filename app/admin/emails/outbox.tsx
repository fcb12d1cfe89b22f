"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import {
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  Field,
  LinkButton,
  LoadingState,
  Notice,
  PageHeader,
  StatusBadge,
  Table,
  errorMessage,
  formatDateTime,
  formatRelative,
  inputClass,
  mutedClass,
} from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { EmailStatus } from "@/server/db/schema/email-outbox";
import type { RouterOutputs } from "../licenses/_parts/types";
import { FilterBar, FilterSelect, LoadMore, partsCss as css } from "../licenses/_parts/ui";
import { orUndefined, useSearchFilters } from "../licenses/_parts/use-search-filters";

const STATUSES = ["pending", "waiting", "sent", "failed"] as const satisfies readonly EmailStatus[];
type Row = RouterOutputs["emails"]["list"]["data"][number];

/** The email outbox: every email Keystead owes someone, how delivery went, and a retry for the failures. */
export function Outbox() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [filters, setFilters] = useSearchFilters(["status", "template", "to", "customer"] as const);
  const [to, setTo] = useState(filters.to);
  useEffect(() => setTo(filters.to), [filters.to]);
  const templates = useQuery(trpc.emails.templates.queryOptions());
  const delivery = useQuery(trpc.emails.delivery.queryOptions(undefined, { refetchInterval: 15_000 }));
  const list = useInfiniteQuery(
    trpc.emails.list.infiniteQueryOptions(
      {
        status: orUndefined<EmailStatus>(filters.status),
        template: filters.template || undefined,
        to: filters.to || undefined,
        customerId: filters.customer || undefined,
        limit: 25,
      },
      { getNextPageParam: (last) => last.nextCursor ?? undefined, refetchInterval: 15_000 },
    ),
  );
  const [retrying, setRetrying] = useState<Row | null>(null);
  const retry = useMutation(
    trpc.emails.retry.mutationOptions({
      onSuccess: async () => {
        setRetrying(null);
        await queryClient.invalidateQueries({ queryKey: trpc.emails.pathKey() });
      },
    }),
  );
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  const filtered = Boolean(filters.status || filters.template || filters.to || filters.customer);

  return (
    <>
      <PageHeader
        title="Emails"
        description="The outbox: each email with its delivery status, attempts and last error."
        actions={<LinkButton href="/admin/emails/templates">Preview templates</LinkButton>}
      />
      {delivery.data?.message && (
        <div style={{ margin: "0 0 1rem" }}>
          <Notice>
            <strong>{delivery.data.message}</strong> Their keys and links stay sealed in the outbox, and nothing is logged;
            each is sent once, at the first start with a provider.
          </Notice>
        </div>
      )}
      <FilterBar
        onSubmit={() => setFilters({ to: to.trim() })}
        onClear={filtered ? () => setFilters({ status: "", template: "", to: "", customer: "" }) : undefined}
      >
        <FilterSelect
          id="email-status"
          label="Status"
          value={filters.status}
          onChange={(status) => setFilters({ status })}
          any="Any status"
          choices={STATUSES}
        />
        <FilterSelect
          id="email-template"
          label="Template"
          value={filters.template}
          onChange={(template) => setFilters({ template })}
          any="Any template"
          choices={templates.data ?? []}
        />
        <Field label="Recipient" htmlFor="email-to">
          <input id="email-to" className={inputClass} value={to} onChange={(e) => setTo(e.target.value)} placeholder="Start of an address" />
        </Field>
      </FilterBar>
      {filters.customer && (
        <p className={`${css.small} ${mutedClass}`}>
          Only the emails of <Link href={`/admin/customers/${filters.customer}`}>one customer</Link>.
        </p>
      )}

      {list.isPending ? (
        <LoadingState label="Loading the outbox…" />
      ) : list.isError && !list.isFetchNextPageError ? (
        <ErrorState title="Could not load the outbox." error={list.error} onRetry={() => void list.refetch()} />
      ) : rows.length === 0 ? (
        filtered ? <EmptyState title="No email matches these filters." /> : <EmptyState title="No email yet.">Emails appear here when a license is issued or changes.</EmptyState>
      ) : (
        <>
          <Table label="Emails">
            <thead>
              <tr>
                <th>Email</th>
                <th>To</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Queued</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr key={m.id}>
                  <td>
                    {m.subject ?? m.template}
                    <div className={`${css.small} ${mutedClass}`}>{m.template}</div>
                    {m.lastError && <div className={css.small}>Last error: {m.lastError}</div>}
                  </td>
                  <td>{m.customerId ? <Link href={`/admin/customers/${m.customerId}`}>{m.to}</Link> : m.to}</td>
                  <td>
                    <StatusBadge status={m.status} />
                    {m.status === "pending" && m.nextAttemptAt && <div className={css.small}>next try {formatRelative(m.nextAttemptAt)}</div>}
                  </td>
                  <td>{m.attempts}</td>
                  <td className={css.nowrap}>
                    {formatDateTime(m.createdAt)}
                    {m.sentAt && <div className={`${css.small} ${mutedClass}`}>sent {formatDateTime(m.sentAt)}</div>}
                  </td>
                  <td>
                    {/* A waiting email is sent at the next start with a provider; sending it now has nowhere to go. */}
                    {m.status !== "sent" && m.status !== "waiting" && (
                      <Button size="small" onClick={() => (retry.reset(), setRetrying(m))}>
                        {m.status === "failed" ? "Retry" : "Send now"}
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
          <LoadMore list={list} />
        </>
      )}
      <ConfirmDialog
        open={retrying !== null}
        title={retrying?.status === "failed" ? "Try this email again?" : "Send this email now?"}
        confirmLabel={retrying?.status === "failed" ? "Retry" : "Send now"}
        busy={retry.isPending}
        error={retry.error ? errorMessage(retry.error) : undefined}
        onCancel={() => setRetrying(null)}
        onConfirm={() => retrying && retry.mutate({ id: retrying.id })}
      >
        {retrying && (
          <>
            “{retrying.subject ?? retrying.template}” to {retrying.to} gets a fresh set of attempts, starting now.
          </>
        )}
      </ConfirmDialog>
    </>
  );
}
