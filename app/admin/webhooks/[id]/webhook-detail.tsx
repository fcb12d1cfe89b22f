"use client";

import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  Field,
  LoadingState,
  Notice,
  PageHeader,
  StatusBadge,
  Table,
  errorMessage,
  formatDateTime,
  formatRelative,
  inputClass,
  monoClass,
  mutedClass,
} from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { RouterOutputs } from "../../licenses/_parts/types";
import { FilterSelect, LoadMore, MutationError, SecretOnce, partsCss } from "../../licenses/_parts/ui";
import { EventsField } from "../events-field";
import css from "../webhooks.module.css";

type Webhook = RouterOutputs["webhooks"]["get"]["webhook"];
type Delivery = RouterOutputs["webhooks"]["deliveries"]["data"][number];
const STATUSES = ["pending", "delivered", "failed"] as const;

/** /admin/webhooks/{id}: the endpoint's settings and secret, and its delivery log with retry and replay. */
export function WebhookDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const found = useQuery(trpc.webhooks.get.queryOptions({ id }));
  return (
    <>
      <PageHeader title="Webhook endpoint" description={<Link href="/admin/webhooks">← All endpoints</Link>} />
      {found.isPending ? (
        <LoadingState label="Loading the endpoint…" />
      ) : found.isError ? (
        <ErrorState title="Could not load this endpoint." error={found.error} onRetry={() => void found.refetch()} />
      ) : (
        <div className={partsCss.stack}>
          <Settings webhook={found.data.webhook} />
          <Deliveries webhook={found.data.webhook} />
        </div>
      )}
    </>
  );
}

function Settings({ webhook: w }: { webhook: Webhook }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.webhooks.pathKey() });
  const [editing, setEditing] = useState(false);
  const [url, setUrl] = useState(w.url);
  const [description, setDescription] = useState(w.description ?? "");
  const [events, setEvents] = useState<string[]>(w.events);
  const [confirm, setConfirm] = useState<"rotate" | "delete" | null>(null);
  const update = useMutation(trpc.webhooks.update.mutationOptions({ onSuccess: async () => (setEditing(false), await invalidate()) }));
  const rotate = useMutation(trpc.webhooks.rotateSecret.mutationOptions({ onSuccess: async () => (setConfirm(null), await invalidate()) }));
  const remove = useMutation(trpc.webhooks.delete.mutationOptions({ onSuccess: () => router.push("/admin/webhooks") }));
  const test = useMutation(trpc.webhooks.sendTest.mutationOptions({ onSuccess: () => invalidate() }));

  return (
    <Card
      title="Endpoint"
      actions={
        <div className={css.buttons}>
          <Button size="small" onClick={() => update.mutate({ id: w.id, patch: { enabled: !w.enabled } })} loading={update.isPending && !editing}>
            {w.enabled ? "Disable" : "Enable"}
          </Button>
          <Button size="small" onClick={() => test.mutate({ id: w.id })} disabled={!w.enabled} loading={test.isPending}>
            Send test event
          </Button>
          <Button size="small" onClick={() => (rotate.reset(), setConfirm("rotate"))}>
            Rotate secret
          </Button>
          <Button size="small" variant="danger" onClick={() => setConfirm("delete")}>
            Delete
          </Button>
        </div>
      }
    >
      {!w.enabled && w.disabledReason && <Notice tone="error">Disabled by Keystead: {w.disabledReason} Enable it once the receiver works again, then replay what it missed.</Notice>}
      {w.enabled && w.failingSince && (
        <Notice tone="error">
          Failing since {formatDateTime(w.failingSince)} ({formatRelative(w.failingSince)}). After five days of failures the endpoint is disabled and the
          admins are emailed.
        </Notice>
      )}
      {rotate.data && (
        <div style={{ margin: "0.75rem 0" }}>
          <SecretOnce label="New signing secret" value={rotate.data.secret}>
            Until {formatDateTime(rotate.data.previousSecretExpiresAt)} every request carries signatures by both the new and the old secret, so the receiver can
            switch over. It is not shown again.
          </SecretOnce>
        </div>
      )}
      {test.data && <p role="status" className={partsCss.small}>✓ Test event queued; it shows in the log below.</p>}
      <MutationError error={test.error ?? (editing ? null : update.error)} />
      {editing ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            update.mutate({ id: w.id, patch: { url: url.trim(), description: description.trim() || null, events: events as never } });
          }}
        >
          <Field label="URL" htmlFor="edit-url">
            <input id="edit-url" className={inputClass} type="url" value={url} onChange={(e) => setUrl(e.target.value)} required />
          </Field>
          <Field label="Description" htmlFor="edit-description">
            <input id="edit-description" className={inputClass} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={500} />
          </Field>
          <EventsField value={events} onChange={setEvents} />
          <div className={css.buttons}>
            <Button type="submit" variant="primary" loading={update.isPending} disabled={events.length === 0}>
              Save
            </Button>
            <Button onClick={() => setEditing(false)}>Cancel</Button>
          </div>
          <MutationError error={update.error} />
        </form>
      ) : (
        <>
          <dl className={partsCss.facts} style={{ marginTop: "0.5rem" }}>
            <dt>URL</dt>
            <dd className={`${monoClass} ${css.url}`}>{w.url}</dd>
            <dt>State</dt>
            <dd>{w.enabled ? <Badge tone="green">enabled</Badge> : <Badge tone={w.disabledReason ? "red" : "neutral"}>disabled</Badge>}</dd>
            <dt>Description</dt>
            <dd>{w.description ?? <span className={mutedClass}>—</span>}</dd>
            <dt>Events</dt>
            <dd className={partsCss.small}>{w.events.join(", ")}</dd>
            <dt>Secret</dt>
            <dd className={partsCss.small}>
              shown once, when made or rotated
              {w.previousSecretExpiresAt && <> · the previous one also signs until {formatDateTime(w.previousSecretExpiresAt)}</>}
            </dd>
            <dt>Created</dt>
            <dd>{formatDateTime(w.createdAt)}</dd>
          </dl>
          <div style={{ marginTop: "0.75rem" }}>
            <Button size="small" onClick={() => setEditing(true)}>
              Edit URL and events
            </Button>
          </div>
        </>
      )}
      <ConfirmDialog
        open={confirm === "rotate"}
        title="Rotate the signing secret?"
        confirmLabel="Rotate"
        busy={rotate.isPending}
        error={rotate.error ? errorMessage(rotate.error) : undefined}
        onCancel={() => setConfirm(null)}
        onConfirm={() => rotate.mutate({ id: w.id })}
      >
        A new secret signs every request from now on. The current one keeps signing beside it for 24 hours, then stops.
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "delete"}
        title="Delete this endpoint?"
        confirmLabel="Delete"
        danger
        busy={remove.isPending}
        error={remove.error ? errorMessage(remove.error) : undefined}
        onCancel={() => setConfirm(null)}
        onConfirm={() => remove.mutate({ id: w.id })}
      >
        Nothing more is sent to {w.url}, and its delivery log is deleted with it.
      </ConfirmDialog>
    </Card>
  );
}

function Deliveries({ webhook: w }: { webhook: Webhook }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState("");
  const [since, setSince] = useState("");
  const list = useInfiniteQuery(
    trpc.webhooks.deliveries.infiniteQueryOptions(
      { id: w.id, status: (status || undefined) as (typeof STATUSES)[number] | undefined, limit: 25 },
      { getNextPageParam: (last) => last.nextCursor ?? undefined, refetchInterval: 5_000 },
    ),
  );
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.webhooks.pathKey() });
  const retry = useMutation(trpc.webhooks.retry.mutationOptions({ onSuccess: () => invalidate() }));
  const replay = useMutation(trpc.webhooks.replay.mutationOptions({ onSuccess: () => invalidate() }));
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <Card title="Delivery log">
      <div className={partsCss.row} style={{ alignItems: "flex-end", gap: "1rem", flexWrap: "wrap" }}>
        <FilterSelect id="delivery-status" label="Status" value={status} onChange={setStatus} any="Any status" choices={STATUSES} />
        <form
          className={partsCss.row}
          style={{ alignItems: "flex-end", gap: "0.5rem" }}
          onSubmit={(e) => {
            e.preventDefault();
            if (since) replay.mutate({ id: w.id, replay: { since: new Date(since).toISOString() } });
          }}
        >
          <Field label="Replay every event since" htmlFor="replay-since">
            <input id="replay-since" className={inputClass} type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} required />
          </Field>
          <div style={{ marginBottom: "0.9rem" }}>
            <Button type="submit" loading={replay.isPending} disabled={!w.enabled}>
              Replay
            </Button>
          </div>
        </form>
      </div>
      {replay.data && <p role="status" className={partsCss.small}>✓ {replay.data.replayed} {replay.data.replayed === 1 ? "event" : "events"} queued again.</p>}
      <MutationError error={replay.error ?? retry.error} />
      {list.isPending ? (
        <LoadingState label="Loading deliveries…" />
      ) : list.isError && !list.isFetchNextPageError ? (
        <ErrorState title="Could not load the deliveries." error={list.error} onRetry={() => void list.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState title={status ? "No delivery with this status." : "Nothing delivered yet."}>
          {status ? null : "Each event this endpoint subscribes to shows up here with every attempt. Send a test event to try it."}
        </EmptyState>
      ) : (
        <>
          <Table label="Deliveries" cardsOnPhone>
            <thead>
              <tr>
                <th>Event</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Created</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <DeliveryRow
                  key={d.id}
                  d={d}
                  enabled={w.enabled}
                  busy={(retry.isPending && retry.variables?.deliveryId === d.id) || (replay.isPending && "deliveryId" in (replay.variables?.replay ?? {}))}
                  onRetry={() => retry.mutate({ id: w.id, deliveryId: d.id })}
                  onReplay={() => replay.mutate({ id: w.id, replay: { deliveryId: d.id } })}
                />
              ))}
            </tbody>
          </Table>
          <LoadMore list={list} />
        </>
      )}
    </Card>
  );
}

function DeliveryRow({ d, enabled, busy, onRetry, onReplay }: { d: Delivery; enabled: boolean; busy: boolean; onRetry: () => void; onReplay: () => void }) {
  return (
    <tr>
      <td data-label="Event">
        <code>{d.type}</code>
        <div className={`${monoClass} ${partsCss.small} ${mutedClass}`}>webhook-id {d.eventId}</div>
        {d.log.length > 0 && (
          <details>
            <summary className={partsCss.small}>
              {d.log.length} {d.log.length === 1 ? "attempt" : "attempts"}, last {attemptSummary(d.log[0]!)}
            </summary>
            <ol className={css.attempts}>
              {d.log.map((a) => (
                <li key={a.id} className={partsCss.small}>
                  {formatDateTime(a.attemptedAt)} · {attemptSummary(a)}
                  {a.trigger === "manual" ? " · retried by hand" : ""}
                  {a.response ? <pre className={css.excerpt} aria-label="First bytes of the answer">{a.response}</pre> : null}
                </li>
              ))}
            </ol>
          </details>
        )}
      </td>
      <td data-label="Status">
        <StatusBadge status={d.status} />
        {d.status === "pending" && d.nextAttemptAt && <div className={`${partsCss.small} ${mutedClass}`}>next try {formatRelative(d.nextAttemptAt)}</div>}
      </td>
      <td data-label="Attempts">{d.attempts}</td>
      <td data-label="Created" className={partsCss.nowrap}>
        {formatDateTime(d.createdAt)}
      </td>
      <td>
        {d.status === "delivered" ? (
          <Button size="small" onClick={onReplay} disabled={!enabled || busy}>
            Replay
          </Button>
        ) : (
          <Button size="small" onClick={onRetry} disabled={!enabled || busy}>
            Retry now
          </Button>
        )}
      </td>
    </tr>
  );
}

function attemptSummary(a: Delivery["log"][number]) {
  return `${a.statusCode === null ? "no answer" : `HTTP ${a.statusCode}`} in ${a.latencyMs} ms${a.error && a.statusCode === null ? ` (${a.error})` : ""}`;
}
