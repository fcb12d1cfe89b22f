"use client";

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useState } from "react";
import { Badge, EmptyState, ErrorState, Field, LoadingState, PageHeader, formatDateTime, inputClass, monoClass } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { ActorType } from "@/server/db/schema/audit-log";
import { actionText, actorText, FilterBar, FilterSelect, JsonBlock, LoadMore, partsCss as css } from "../licenses/_parts/ui";
import { orUndefined, useSearchFilters } from "../licenses/_parts/use-search-filters";

const ACTORS: { value: ActorType; label: string }[] = [
  { value: "admin", label: "An admin" },
  { value: "api_token", label: "An API token" },
  { value: "customer", label: "A customer" },
  { value: "stripe", label: "A Stripe event" },
  { value: "system", label: "The system" },
];

/** Where an audit row's subject lives in the admin app, if it has a page. */
function subjectHref(type: string, id: string): string | null {
  if (type === "license") return `/admin/licenses/${id}`;
  if (type === "customer") return `/admin/customers/${id}`;
  if (type === "stripe_event") return `/admin/stripe-events/${encodeURIComponent(id)}`;
  return null;
}

export function AuditLog() {
  const trpc = useTRPC();
  const [filters, setFilters] = useSearchFilters(["actorType", "actorId", "action", "subjectType", "subjectId"] as const);
  const [text, setText] = useState({ actorId: filters.actorId, action: filters.action, subjectId: filters.subjectId });
  useEffect(() => setText({ actorId: filters.actorId, action: filters.action, subjectId: filters.subjectId }), [filters.actorId, filters.action, filters.subjectId]);
  const subjectTypes = useQuery(trpc.audit.subjectTypes.queryOptions());
  const list = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(
      {
        actorType: orUndefined<ActorType>(filters.actorType),
        actorId: filters.actorId || undefined,
        action: filters.action || undefined,
        subjectType: filters.subjectType || undefined,
        subjectId: filters.subjectId || undefined,
        limit: 50,
      },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  const filtered = Object.values(filters).some(Boolean);

  return (
    <>
      <PageHeader title="Audit log" description="Every change, who made it (an admin, an API token, a customer, a Stripe event, the system), and what it was before and after." />
      <FilterBar
        onSubmit={() => setFilters({ actorId: text.actorId.trim(), action: text.action.trim(), subjectId: text.subjectId.trim() })}
        onClear={
          filtered ? () => setFilters({ actorType: "", actorId: "", action: "", subjectType: "", subjectId: "" }) : undefined
        }
      >
        <FilterSelect
          id="audit-actor"
          label="Who"
          value={filters.actorType}
          onChange={(actorType) => setFilters({ actorType })}
          any="Anyone"
          choices={ACTORS}
        />
        <Field label="Who exactly" htmlFor="audit-actor-id" hint="Admin email, token id, customer id or evt_…">
          <input id="audit-actor-id" className={inputClass} value={text.actorId} onChange={(e) => setText({ ...text, actorId: e.target.value })} />
        </Field>
        <Field label="Action" htmlFor="audit-action" hint="license.revoked, or a family: license.">
          <input id="audit-action" className={inputClass} value={text.action} onChange={(e) => setText({ ...text, action: e.target.value })} spellCheck={false} />
        </Field>
        <FilterSelect
          id="audit-subject-type"
          label="Subject"
          value={filters.subjectType}
          onChange={(subjectType) => setFilters({ subjectType })}
          any="Anything"
          choices={(subjectTypes.data ?? []).map((t) => ({ value: t, label: t.replace("_", " ") }))}
        />
        <Field label="Subject id" htmlFor="audit-subject-id">
          <input id="audit-subject-id" className={inputClass} value={text.subjectId} onChange={(e) => setText({ ...text, subjectId: e.target.value })} spellCheck={false} />
        </Field>
      </FilterBar>

      {list.isPending ? (
        <LoadingState label="Loading the audit log…" />
      ) : list.isError && !list.isFetchNextPageError ? (
        <ErrorState title="Could not load the audit log." error={list.error} onRetry={() => void list.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title={filtered ? "Nothing matches these filters." : "Nothing has happened yet."} />
      ) : (
        <>
          <ol className={css.timeline} aria-label="Audit entries">
            {rows.map((a) => {
              const href = subjectHref(a.subject.type, a.subject.id);
              return (
                <li key={a.id} className={css.timelineItem}>
                  <span className={css.timelineKind}>
                    <Badge tone={a.actor.type === "admin" ? "blue" : a.actor.type === "stripe" ? "amber" : "neutral"}>{a.actor.type.replace("_", " ")}</Badge>
                  </span>
                  <span className={css.timelineTitle}>
                    {actionText(a.action)}{" "}
                    <span className={`${css.small} ${monoClass}`}>
                      {a.subject.type}{" "}
                      {href ? <Link href={href}>{a.subject.id}</Link> : a.subject.id}
                    </span>
                  </span>
                  <span className={css.timelineMeta}>
                    #{a.id} · {formatDateTime(a.at)} · {actorText(a.actor)}
                  </span>
                  {(a.before !== null || a.after !== null || a.metadata) && (
                    <details className={css.timelineBody}>
                      <summary className={css.small}>Before and after</summary>
                      <div className={css.twoColumns}>
                        <JsonBlock label="Before" value={a.before} />
                        <JsonBlock label="After" value={a.after} />
                      </div>
                      {a.metadata && <JsonBlock label="Details" value={a.metadata} />}
                    </details>
                  )}
                </li>
              );
            })}
          </ol>
          <LoadMore list={list} />
        </>
      )}
    </>
  );
}
