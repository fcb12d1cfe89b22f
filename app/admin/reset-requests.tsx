"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_trpc/client";
import { Button, Card, ErrorState, Notice, formatDateTime, formatRelative, plural } from "@/app/_components";
import type { ResetRequestView } from "@/server/domain/licensing/reset-requests";
import css from "./reset-requests.module.css";

/**
 * Customers' open manual-reset requests (they are inside their plan's reset cooldown): Approve resets every
 * device at once, bypassing the cooldown, and emails the customer; Dismiss closes the request. On the dashboard
 * (all of them, nothing shown when there are none) and on a license's page (that license's).
 */
export function ResetRequests({ licenseId, className = css.panel }: { licenseId?: string; className?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.resetRequests.list.queryOptions({ status: "open", licenseId }, { refetchInterval: 60_000 }));
  const done = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.resetRequests.list.queryKey() });
    // The license page shows devices and the timeline: both changed.
    await queryClient.invalidateQueries({ queryKey: trpc.licenses.get.queryKey() });
  };
  const approve = useMutation(trpc.resetRequests.approve.mutationOptions({ onSuccess: done }));
  const dismiss = useMutation(trpc.resetRequests.dismiss.mutationOptions({ onSuccess: done }));

  // A side panel: while it loads (or when nothing waits) the page shows nothing for it.
  if (list.isPending) return null;
  if (list.isError) {
    return (
      <div className={className}>
        <ErrorState title="Could not load reset requests." error={list.error} onRetry={() => void list.refetch()} />
      </div>
    );
  }
  if (list.data.length === 0) {
    return approve.isSuccess ? (
      <div className={className}>
        <Notice tone="success">{`Reset done: ${plural(approve.data.removed, "device")} deactivated; the customer is being emailed.`}</Notice>
      </div>
    ) : null;
  }

  return (
    <div className={className}>
      <Card title={`Device reset requests (${list.data.length})`}>
        <ul className={css.list} aria-label="Device reset requests">
          {list.data.map((r: ResetRequestView) => (
            <li key={r.id} className={css.item}>
              <div className={css.text}>
                <div className={css.who}>
                  {licenseId ? (
                    r.customerEmail
                  ) : (
                    <Link href={`/admin/licenses/${r.licenseId}`}>
                      {r.customerEmail} · {r.productName} {`…-${r.keyHint}`}
                    </Link>
                  )}
                </div>
                <div className={css.meta}>
                  {`Asked ${formatRelative(r.createdAt)} · ${plural(r.devices, "device")} activated · last reset ${formatDateTime(r.lastResetAt)}`}
                </div>
                {r.message && <blockquote className={css.message}>{r.message}</blockquote>}
              </div>
              <div className={css.buttons}>
                <Button
                  size="small"
                  variant="primary"
                  loading={approve.isPending && approve.variables?.id === r.id}
                  onClick={() => approve.mutate({ id: r.id })}
                  aria-label={`Approve the reset for ${r.customerEmail}`}
                >
                  Approve
                </Button>
                <Button
                  size="small"
                  variant="ghost"
                  loading={dismiss.isPending && dismiss.variables?.id === r.id}
                  onClick={() => dismiss.mutate({ id: r.id })}
                  aria-label={`Dismiss the request of ${r.customerEmail}`}
                >
                  Dismiss
                </Button>
              </div>
            </li>
          ))}
        </ul>
        {approve.isError && <ErrorState title="Could not approve." error={approve.error} />}
        {dismiss.isError && <ErrorState title="Could not dismiss." error={dismiss.error} />}
      </Card>
    </div>
  );
}
