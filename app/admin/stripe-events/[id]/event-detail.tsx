"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Button, Card, ConfirmDialog, ErrorState, LoadingState, PageHeader, StatusBadge, errorMessage, formatDateTime, monoClass } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import { actionText, actorText, JsonBlock, partsCss as css } from "../../licenses/_parts/ui";
import own from "./event-detail.module.css";

export function StripeEventDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const event = useQuery(trpc.stripeEvents.get.queryOptions({ id }, { staleTime: 0, refetchInterval: (q) => (q.state.data?.event.status === "pending" ? 3_000 : false) }));
  const [confirming, setConfirming] = useState(false);
  const replay = useMutation(
    trpc.stripeEvents.replay.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await queryClient.invalidateQueries({ queryKey: trpc.stripeEvents.pathKey() });
      },
    }),
  );

  if (event.isPending) return <LoadingState label="Loading the event…" />;
  if (event.isError) {
    return (
      <>
        <PageHeader title="Stripe event" />
        <ErrorState title="Could not load this event." error={event.error} onRetry={() => void event.refetch()} />
        <p>
          <Link href="/admin/stripe-events">← All Stripe events</Link>
        </p>
      </>
    );
  }
  const { event: e, audit, licenseIds } = event.data;
  return (
    <div className={own.page}>
      <PageHeader
        title={e.type}
        description={<span className={monoClass}>{e.id}</span>}
        actions={
          <>
            {/* The actions row is as tall as the button: keep the badge its own height. */}
            <span style={{ alignSelf: "center" }}>
              <StatusBadge status={e.status} />
            </span>
            <Button onClick={() => (replay.reset(), setConfirming(true))} variant={e.status === "failed" ? "primary" : "default"}>
              Replay
            </Button>
          </>
        }
      />
      {replay.isSuccess && <p role="status">✓ Queued again. The page refreshes while it is processed.</p>}
      <div className={css.twoColumns}>
        <Card title="Event">
          <dl className={css.facts}>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={e.status} />
            </dd>
            <dt>Attempts</dt>
            <dd>{e.attempts}</dd>
            {e.lastError && (
              <>
                <dt>Last error</dt>
                <dd>{e.lastError}</dd>
              </>
            )}
            <dt>About</dt>
            <dd className={monoClass}>{e.objectId ?? "—"}</dd>
            <dt>Happened</dt>
            <dd>{formatDateTime(e.stripeCreatedAt)}</dd>
            <dt>Received</dt>
            <dd>
              {formatDateTime(e.receivedAt)} via {e.receivedVia}
            </dd>
            <dt>Processed</dt>
            <dd>{formatDateTime(e.processedAt)}</dd>
            <dt>Mode</dt>
            <dd>{e.livemode ? "live" : "test"}</dd>
            <dt>Licenses</dt>
            <dd>
              {licenseIds.length === 0
                ? "none touched"
                : licenseIds.map((l) => (
                    <div key={l}>
                      <Link href={`/admin/licenses/${l}`} className={monoClass}>
                        {l}
                      </Link>
                    </div>
                  ))}
            </dd>
          </dl>
        </Card>
        <Card title="What processing did">
          <JsonBlock label="Result" value={e.result} />
          {audit.length > 0 && (
            <ol className={css.timeline} style={{ marginTop: "0.75rem" }}>
              {audit.map((a) => (
                <li key={a.id} className={css.timelineItem}>
                  <span className={css.timelineTitle} style={{ gridColumn: "1 / -1" }}>
                    {actionText(a.action)} <span className={`${css.small} ${monoClass}`}>{a.subject.type} {a.subject.id}</span>
                  </span>
                  <span className={css.timelineMeta} style={{ gridColumn: "1 / -1" }}>
                    {formatDateTime(a.at)} · {actorText(a.actor)}
                  </span>
                </li>
              ))}
            </ol>
          )}
        </Card>
      </div>
      <div style={{ marginTop: "1rem" }}>
        <Card title="Payload (as Stripe sent it)">
          <JsonBlock label="Payload" value={e.payload} />
        </Card>
      </div>
      <ConfirmDialog
        open={confirming}
        title="Process this event again?"
        confirmLabel="Replay"
        busy={replay.isPending}
        error={replay.error ? errorMessage(replay.error) : undefined}
        onCancel={() => setConfirming(false)}
        onConfirm={() => replay.mutate({ id: e.id })}
      >
        It goes back to pending and the worker processes it again, reading the current state from Stripe. Processing is
        idempotent: a checkout never issues the same license twice.
      </ConfirmDialog>
    </div>
  );
}
