"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ActivationFileForm } from "@/app/_components/activation-file-form";
import { useTRPC } from "@/app/_trpc/client";
import { DeviceReset } from "./device-reset";
import {
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  LoadingState,
  Notice,
  PageHeader,
  StatusBadge,
  errorMessage,
  formatDate,
  formatRelative,
} from "@/app/_components";
import type { PortalActivation, PortalLicense } from "@/server/domain/licensing/portal";
import { KeyRotation } from "./key-rotation";
import { PortalEmails } from "./portal-emails";
import css from "./portal.module.css";

export function PortalLicenses() {
  const trpc = useTRPC();
  const me = useQuery(trpc.portal.me.queryOptions());
  const licenses = useQuery(trpc.portal.licenses.queryOptions());
  // With more than one address, each license says which one it was bought with.
  const manyAddresses = new Set(licenses.data?.map((l) => l.email.toLowerCase())).size > 1;

  return (
    <>
      <PageHeader title="Your licenses" description="Your license keys, and the devices each one is activated on." />
      <PortalEmails />
      {licenses.isPending ? (
        <LoadingState label="Loading your licenses…" />
      ) : licenses.isError ? (
        <ErrorState title="Could not load your licenses." error={licenses.error} onRetry={() => void licenses.refetch()} />
      ) : licenses.data.length === 0 ? (
        <EmptyState title="No licenses yet">
          {`We found no licenses for ${me.data?.email ?? "this email address"}. If you bought with another address, add it above with "Add another email".`}
        </EmptyState>
      ) : (
        <div className={css.list}>
          {licenses.data.map((l) => (
            <LicenseCard key={l.id} license={l} email={me.data?.email ?? null} showOwner={manyAddresses} />
          ))}
        </div>
      )}
    </>
  );
}

function LicenseCard({ license: l, email, showOwner }: { license: PortalLicense; email: string | null; showOwner: boolean }) {
  const trpc = useTRPC();
  const reveal = useMutation(trpc.portal.revealKey.mutationOptions());
  const resend = useMutation(trpc.portal.resendLicenseEmail.mutationOptions());
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState(false);
  const key = shown ? reveal.data?.key : undefined;

  return (
    <article className={css.license} aria-label={`${l.productName} ${l.planName}`}>
      <div className={css.licenseHead}>
        <h2 className={css.licenseTitle}>
          {l.productName} · {l.planName}
        </h2>
        <StatusBadge status={l.status} />
      </div>
      {l.statusReason && (l.status === "suspended" || l.status === "revoked") && (
        <div className={css.reason}>
          <Notice tone="error">{l.statusReason}</Notice>
        </div>
      )}
      <dl className={css.facts}>
        {showOwner && (
          <div>
            <dt>Bought with</dt>
            <dd style={{ overflowWrap: "anywhere" }}>{l.email}</dd>
          </div>
        )}
        <div>
          <dt>Expires</dt>
          <dd>{l.expiresAt ? formatDate(l.expiresAt) : "Never"}</dd>
        </div>
        <div>
          <dt>Seats used</dt>
          <dd>
            {l.activations.length} of {l.maxActivations}
          </dd>
        </div>
        <div>
          <dt>Renewal</dt>
          <dd>{l.autoRenews ? "Renews automatically" : l.expiresAt ? "Does not renew" : "Not needed"}</dd>
        </div>
        {l.entitlements.length > 0 && (
          <div>
            <dt>Includes</dt>
            <dd>{l.entitlements.join(", ")}</dd>
          </div>
        )}
      </dl>

      <div className={css.keyRow}>
        <span className={css.key} aria-label="License key" data-testid="license-key">
          {key ?? l.keyHint}
        </span>
        {key ? (
          <>
            <Button
              size="small"
              onClick={() => {
                void navigator.clipboard?.writeText(key).then(() => {
                  setCopied(true);
                  setTimeout(() => setCopied(false), 2000);
                });
              }}
            >
              {copied ? "Copied" : "Copy"}
            </Button>
            <Button size="small" variant="ghost" onClick={() => setShown(false)}>
              Hide
            </Button>
          </>
        ) : (
          <Button
            size="small"
            loading={reveal.isPending}
            onClick={() => {
              setShown(true);
              if (!reveal.data) reveal.mutate({ licenseId: l.id });
            }}
          >
            Show key
          </Button>
        )}
      </div>
      {reveal.isError && <ErrorState title="Could not show the key." error={reveal.error} />}

      <h3 className={css.subTitle}>Devices</h3>
      {l.activations.length === 0 ? (
        <p className={css.deviceMeta} style={{ margin: 0 }}>
          Not activated on any device yet. Enter the key in the app to activate it.
        </p>
      ) : (
        <ul className={css.devices} aria-label="Devices">
          {l.activations.map((a) => (
            <Device key={a.id} activation={a} />
          ))}
        </ul>
      )}

      {l.activationFiles && <OfflineMachine licenseId={l.id} />}

      <DeviceReset license={l} />

      <div className={css.actions}>
        <Button size="small" loading={resend.isPending} onClick={() => resend.mutate({ licenseId: l.id })}>
          Email me this key again
        </Button>
        {l.status !== "revoked" && <KeyRotation licenseId={l.id} keyHint={l.keyHint} />}
      </div>
      {resend.isSuccess && (
        <div style={{ marginTop: "0.5rem" }}>
          <Notice tone="success">
            {resend.data.queued
              ? `The license email is on its way to ${email ?? "you"}.`
              : "We already sent it a moment ago; check your inbox (and spam folder)."}
          </Notice>
        </div>
      )}
      {resend.isError && (
        <div style={{ marginTop: "0.5rem" }}>
          <ErrorState title="Could not send the email." error={resend.error} />
        </div>
      )}
    </article>
  );
}

/** A machine that never goes online: the customer downloads its activation file here (it takes a seat). */
function OfflineMachine({ licenseId }: { licenseId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const make = useMutation(
    trpc.portal.activationFile.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.portal.licenses.queryKey() }),
    }),
  );
  return (
    <div className={css.actions}>
      <Button size="small" aria-expanded={open} onClick={() => setOpen(!open)}>
        Activate a machine that is never online
      </Button>
      {open && (
        <ActivationFileForm
          idPrefix={`portal-file-${licenseId}`}
          create={{ mutate: (input, opts) => make.mutate({ licenseId, ...input }, opts), isPending: make.isPending, error: make.error }}
        />
      )}
    </div>
  );
}

function Device({ activation: a }: { activation: PortalActivation }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const deactivate = useMutation(
    trpc.portal.deactivate.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await queryClient.invalidateQueries({ queryKey: trpc.portal.licenses.queryKey() });
      },
    }),
  );
  const label = a.name ?? a.platform ?? "Unnamed device";
  return (
    <li className={css.device}>
      <div style={{ minWidth: 0 }}>
        <div className={css.deviceName}>{label}</div>
        <div className={css.deviceMeta}>
          {[
            a.platform && a.name ? a.platform : null,
            `ID ${a.fingerprint}`,
            `first seen ${formatDate(a.createdAt)}`,
            a.airGapped ? "offline (activation file)" : `last seen ${formatRelative(a.lastSeenAt)}`,
          ]
            .filter(Boolean)
            .join(" · ")}
        </div>
      </div>
      <Button size="small" onClick={() => setConfirming(true)}>
        Deactivate
      </Button>
      <ConfirmDialog
        open={confirming}
        title={`Deactivate "${label}"?`}
        confirmLabel="Deactivate"
        danger
        busy={deactivate.isPending}
        error={deactivate.isError ? errorMessage(deactivate.error) : undefined}
        onConfirm={() => deactivate.mutate({ activationId: a.id })}
        onCancel={() => {
          setConfirming(false);
          deactivate.reset();
        }}
      >
        {a.airGapped
          ? "Its seat becomes free for another device. The machine itself is never online, so it keeps working until its activation file expires."
          : "The app on this device stops working with this license and its seat becomes free for another device."}
      </ConfirmDialog>
    </li>
  );
}
