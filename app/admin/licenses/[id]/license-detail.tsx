"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  ErrorState,
  Ident,
  LoadingState,
  Notice,
  PageHeader,
  StatusBadge,
  Table,
  errorMessage,
  formatDate,
  formatDateTime,
  formatRelative,
  monoClass,
} from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { LicenseDetail as Detail } from "../_parts/types";
import { durationText, keyHintText, SecretOnce, partsCss as css } from "../_parts/ui";
import { LicenseActions } from "./license-actions";
import { Timeline } from "./timeline";
import { ResetRequests } from "../../reset-requests";

export function LicenseDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const license = useQuery(trpc.licenses.get.queryOptions({ id }, { staleTime: 0 }));
  const [rotatedKey, setRotatedKey] = useState<string | null>(null);

  if (license.isPending) return <LoadingState label="Loading the license…" />;
  if (license.isError) {
    return (
      <>
        <PageHeader title="License" />
        <ErrorState title="Could not load this license." error={license.error} onRetry={() => void license.refetch()} />
        <p>
          <Link href="/admin/licenses">← All licenses</Link>
        </p>
      </>
    );
  }
  const d = license.data;
  const l = d.license;
  return (
    <>
      <PageHeader
        title={`License ${keyHintText(l.keyHint)}`}
        description={
          <>
            {d.product.name} · {d.plan.name} for <Link href={`/admin/customers/${d.customer.id}`}>{d.customer.email}</Link>
          </>
        }
        actions={<StatusBadge status={l.status} />}
      />
      {rotatedKey && (
        <div style={{ marginBottom: "1rem" }}>
          <SecretOnce label="The new key (the old one no longer works)" value={rotatedKey}>
            The customer is being emailed this key. It is not shown here again.
          </SecretOnce>
        </div>
      )}
      {l.statusReason && (l.status === "suspended" || l.status === "revoked") && (
        <div style={{ marginBottom: "1rem" }}>
          <Notice>
            Reason the customer sees: <strong>{l.statusReason}</strong>
          </Notice>
        </div>
      )}

      <ResetRequests licenseId={l.id} />

      <div className={css.detailGrid}>
        <div className={css.areaFacts}>
          <Card title="License">
            <Facts detail={d} />
          </Card>
        </div>
        <div className={css.areaActions}>
          <LicenseActions detail={d} onRotated={setRotatedKey} />
        </div>
        <div className={css.areaMore}>
          <PlanFacts detail={d} />
        </div>
      </div>

      <div className={css.stack} style={{ marginTop: "1rem" }}>
        <Card title={`Devices (${d.activations.length} of ${l.maxActivations} seats)`}>
          <Activations detail={d} />
        </Card>
        <Card
          title="Timeline"
          actions={
            <Link href={`/admin/audit?subjectType=license&subjectId=${l.id}`} className={css.small}>
              Full audit log →
            </Link>
          }
        >
          <Timeline entries={d.timeline} />
        </Card>
      </div>
    </>
  );
}

function PlanFacts({ detail: d }: { detail: Detail }) {
  return (
    <Card title="Plan">
      <dl className={css.facts}>
        <dt>Product</dt>
        <dd>
          {d.product.name} <span className={monoClass}>({d.product.slug})</span>
        </dd>
        <dt>Plan</dt>
        <dd>
          {d.plan.name} <span className={monoClass}>({d.plan.slug})</span> {d.plan.archivedAt && <Badge>retired</Badge>}
        </dd>
        <dt>Entitlements</dt>
        <dd>{d.plan.entitlements.length ? d.plan.entitlements.map((e) => <Badge key={e}>{e}</Badge>) : "none"}</dd>
        <dt>Grace</dt>
        <dd>{d.plan.graceDays ? `${d.plan.graceDays} days after expiry` : "none"}</dd>
        <dt>Offline tokens</dt>
        <dd>{durationText(d.plan.offlineTokenTtlSeconds, "the server default (OFFLINE_TOKEN_TTL)")}</dd>
        <dt>Heartbeat</dt>
        <dd>
          {d.plan.heartbeatWindowSeconds ? `devices silent for ${durationText(d.plan.heartbeatWindowSeconds)} free their seat` : "seats never lapse"}
        </dd>
        <dt>Activation files</dt>
        <dd>{d.plan.airGappedTtlDays ? `valid ${d.plan.airGappedTtlDays} days (never past the expiry)` : "off (set the plan's activation file lifetime)"}</dd>
      </dl>
    </Card>
  );
}

function Facts({ detail: d }: { detail: Detail }) {
  const l = d.license;
  const stripe = [
    l.stripe.checkoutSessionId && ["Checkout", l.stripe.checkoutSessionId],
    l.stripe.subscriptionId && ["Subscription", l.stripe.subscriptionId],
    l.stripe.paymentIntentId && ["Payment", l.stripe.paymentIntentId],
    l.stripe.priceId && ["Price", l.stripe.priceId],
  ].filter(Boolean) as [string, string][];
  return (
    <dl className={css.facts}>
      <dt>Key</dt>
      <dd className={monoClass}>{keyHintText(l.keyHint)}</dd>
      <dt>Customer</dt>
      <dd>
        <Link href={`/admin/customers/${d.customer.id}`}>{d.customer.email}</Link>
        {d.customer.name ? ` (${d.customer.name})` : ""}
      </dd>
      <dt>Seats</dt>
      <dd>
        {d.activations.length} of {l.maxActivations} in use
      </dd>
      <dt>Expires</dt>
      <dd>
        {l.expiresAt ? `${formatDate(l.expiresAt)} (${formatRelative(l.expiresAt)})` : "never"}
        {l.cancelAt ? ` · cancels ${formatDate(l.cancelAt)}` : ""}
        {l.autoRenews ? " · renews automatically" : ""}
      </dd>
      {l.trialEndsAt && (
        <>
          <dt>Trial ends</dt>
          <dd>{formatDate(l.trialEndsAt)}</dd>
        </>
      )}
      <dt>Source</dt>
      <dd>{l.source === "stripe" ? "Stripe checkout" : l.source === "manual" ? "Issued by hand" : l.source}</dd>
      {stripe.map(([label, value]) => (
        <FactRow key={label} label={`Stripe ${label.toLowerCase()}`} value={value} />
      ))}
      <dt>Issued</dt>
      <dd>{formatDateTime(l.createdAt)}</dd>
      <dt>License id</dt>
      <dd className={monoClass}>{l.id}</dd>
    </dl>
  );
}

function FactRow({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className={monoClass}>{value}</dd>
    </>
  );
}

function Activations({ detail: d }: { detail: Detail }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [target, setTarget] = useState<Detail["activations"][number] | null>(null);
  const deactivate = useMutation(
    trpc.licenses.deactivate.mutationOptions({
      onSuccess: async () => {
        setTarget(null);
        await queryClient.invalidateQueries({ queryKey: trpc.licenses.pathKey() });
      },
    }),
  );
  if (d.activations.length === 0) return <p className={css.small}>No device is activated on this license.</p>;
  return (
    <>
      <Table label="Devices" cardsOnPhone>
        <thead>
          <tr>
            <th>Fingerprint</th>
            <th>Name</th>
            <th>Platform</th>
            <th>Activated</th>
            <th>Last seen</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {d.activations.map((a) => (
            <tr key={a.id}>
              <td data-label="Fingerprint">
                <Ident>{a.fingerprint}</Ident>
              </td>
              <td data-label="Name">{a.name ?? "—"}</td>
              <td data-label="Platform">{a.platform ?? "—"}</td>
              <td data-label="Activated" className={css.nowrap}>{formatDate(a.createdAt)}</td>
              <td data-label="Last seen" className={css.nowrap}>
                {a.airGapped ? "Air-gapped (activation file)" : formatRelative(a.lastSeenAt)}
              </td>
              <td>
                <Button size="small" onClick={() => setTarget(a)}>
                  Deactivate
                </Button>
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <ConfirmDialog
        open={target !== null}
        title="Deactivate this device?"
        confirmLabel="Deactivate"
        danger
        busy={deactivate.isPending}
        error={deactivate.error ? errorMessage(deactivate.error) : undefined}
        onCancel={() => {
          setTarget(null);
          deactivate.reset();
        }}
        onConfirm={() => target && deactivate.mutate({ id: d.license.id, activationId: target.id })}
      >
        {target && (
          <>
            The device <span className={monoClass}>{target.fingerprint}</span>
            {target.name ? ` (${target.name})` : ""} loses its seat now. It can activate again while seats are free.
          </>
        )}
      </ConfirmDialog>
    </>
  );
}
