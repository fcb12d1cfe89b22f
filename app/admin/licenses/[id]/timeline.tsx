"use client";

import Link from "next/link";
import { Badge, StatusBadge, formatDateTime } from "@/app/_components";
import type { TimelineEntry } from "../_parts/types";
import { actionText, actorText, JsonBlock, partsCss as css } from "../_parts/ui";

/** What happened to a license, newest first: changes (audit rows), Stripe events and emails, in one list. */
export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  if (entries.length === 0) return <p className={css.small}>Nothing has happened to this license yet.</p>;
  return (
    <ol className={css.timeline} aria-label="Timeline">
      {entries.map((e) => (
        <li key={`${e.kind}:${e.id}`} className={css.timelineItem}>
          <span className={css.timelineKind}>
            {e.kind === "audit" ? <Badge tone="blue">change</Badge> : e.kind === "stripe_event" ? <Badge>Stripe</Badge> : <Badge>email</Badge>}
          </span>
          {e.kind === "audit" && <AuditItem entry={e} />}
          {e.kind === "stripe_event" && (
            <>
              <span className={css.timelineTitle}>
                <Link href={`/admin/stripe-events/${encodeURIComponent(e.id)}`}>{e.type}</Link> <StatusBadge status={e.status} />
              </span>
              <span className={css.timelineMeta}>
                {formatDateTime(e.at)} · {e.id}
                {e.lastError ? ` · ${e.lastError}` : ""}
              </span>
            </>
          )}
          {e.kind === "email" && (
            <>
              <span className={css.timelineTitle}>
                {e.subject ?? e.template} <StatusBadge status={e.status} />
              </span>
              <span className={css.timelineMeta}>
                {formatDateTime(e.at)} · to {e.to} · {e.attempts} {e.attempts === 1 ? "attempt" : "attempts"}
                {e.lastError ? ` · last error: ${e.lastError}` : ""}
              </span>
            </>
          )}
        </li>
      ))}
    </ol>
  );
}

function AuditItem({ entry: e }: { entry: Extract<TimelineEntry, { kind: "audit" }> }) {
  const reason = (e.after as { statusReason?: string | null } | null)?.statusReason;
  return (
    <>
      <span className={css.timelineTitle}>
        {actionText(e.action)}
        {reason ? ` — “${reason}”` : ""}
      </span>
      <span className={css.timelineMeta}>
        {formatDateTime(e.at)} · {actorText(e.actor)}
        {e.metadata && typeof e.metadata.via === "string" ? ` (${e.metadata.via})` : ""}
      </span>
      {(e.before !== null || e.after !== null || e.metadata) && (
        <details className={css.timelineBody}>
          <summary className={css.small}>Before and after</summary>
          <div className={css.twoColumns}>
            <JsonBlock label="Before" value={e.before} />
            <JsonBlock label="After" value={e.after ?? e.metadata} />
          </div>
        </details>
      )}
    </>
  );
}
