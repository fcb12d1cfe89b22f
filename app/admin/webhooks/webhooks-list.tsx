"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Badge, Button, Card, EmptyState, ErrorState, Field, LoadingState, PageHeader, Table, formatDateTime, inputClass, mutedClass } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import { MutationError, SecretOnce, partsCss } from "../licenses/_parts/ui";
import { EventsField } from "./events-field";
import css from "./webhooks.module.css";

/** /admin/webhooks: the endpoints, and a form to add one (its signing secret is shown once). */
export function WebhooksList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.webhooks.list.queryOptions());
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<string[]>([]);
  const create = useMutation(
    trpc.webhooks.create.mutationOptions({
      onSuccess: async () => {
        setUrl("");
        setDescription("");
        setEvents([]);
        await queryClient.invalidateQueries({ queryKey: trpc.webhooks.list.queryKey() });
      },
    }),
  );

  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Keystead POSTs each change (licenses, activations, failed payments, customers) to these URLs, signed the Standard Webhooks way, and retries for about three days."
      />
      <div className={partsCss.stack}>
        <Card title="Add an endpoint">
          {create.data && (
            <div style={{ marginBottom: "0.75rem" }}>
              <SecretOnce label={`Signing secret for ${create.data.webhook.url}`} value={create.data.secret}>
                Verify each request with it (any Standard Webhooks library: <code>standardwebhooks</code>, <code>svix</code>). It is not
                shown again; rotate it from the endpoint&apos;s page if it is lost.
              </SecretOnce>
            </div>
          )}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              create.mutate({ url: url.trim(), events: events as never, ...(description.trim() ? { description: description.trim() } : {}) });
            }}
          >
            <Field label="URL" htmlFor="webhook-url" hint="https://… (private and loopback addresses are refused unless WEBHOOK_ALLOW_PRIVATE=1)">
              <input
                id="webhook-url"
                className={inputClass}
                type="url"
                value={url}
                onChange={(e) => setUrl(e.target.value)}
                placeholder="https://example.com/hooks/keystead"
                required
              />
            </Field>
            <Field label="Description" htmlFor="webhook-description" hint="Optional: what listens there.">
              <input id="webhook-description" className={inputClass} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={500} />
            </Field>
            <EventsField value={events} onChange={setEvents} />
            <Button type="submit" variant="primary" loading={create.isPending} disabled={events.length === 0}>
              Add endpoint
            </Button>
            {events.length === 0 && <span className={`${partsCss.small} ${mutedClass}`}> Choose at least one event.</span>}
            <MutationError error={create.error} />
          </form>
        </Card>

        {list.isPending ? (
          <LoadingState label="Loading endpoints…" />
        ) : list.isError ? (
          <ErrorState title="Could not load the endpoints." error={list.error} onRetry={() => void list.refetch()} />
        ) : list.data.data.length === 0 ? (
          <EmptyState title="No webhook endpoint yet.">Add one above; each change is then delivered to it within seconds.</EmptyState>
        ) : (
          <Table label="Webhook endpoints" cardsOnPhone>
            <thead>
              <tr>
                <th>URL</th>
                <th>State</th>
                <th>Events</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((w) => (
                <tr key={w.id}>
                  <td data-label="URL" className={css.url}>
                    <Link href={`/admin/webhooks/${w.id}`}>{w.url}</Link>
                    {w.description && <div className={`${partsCss.small} ${mutedClass}`}>{w.description}</div>}
                  </td>
                  <td data-label="State">
                    {w.enabled ? (
                      w.failingSince ? <Badge tone="amber">failing</Badge> : <Badge tone="green">enabled</Badge>
                    ) : (
                      <Badge tone={w.disabledReason ? "red" : "neutral"}>disabled</Badge>
                    )}
                  </td>
                  <td data-label="Events" className={partsCss.small}>
                    {w.events.length} {w.events.length === 1 ? "type" : "types"}: {w.events.join(", ")}
                  </td>
                  <td data-label="Created" className={partsCss.nowrap}>
                    {formatDateTime(w.createdAt)}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </div>
    </>
  );
}
