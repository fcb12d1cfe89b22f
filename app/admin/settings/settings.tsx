"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import {
  Badge,
  type BadgeTone,
  Button,
  Card,
  ConfirmDialog,
  ErrorState,
  Field,
  LoadingState,
  PageHeader,
  Table,
  errorMessage,
  formatDateTime,
  formatRelative,
  inputClass,
  monoClass,
  mutedClass,
} from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { RouterOutputs } from "../licenses/_parts/types";
import { durationText, MutationError, SecretOnce, partsCss as css } from "../licenses/_parts/ui";
import { ShopSettings } from "./shop-settings";

export function Settings() {
  return (
    <>
      <PageHeader
        title="Settings"
        description="Stripe and email wiring, the shop's look and rules, the keys that sign offline tokens, and API tokens for the management API. Other settings live in the environment."
      />
      <div className={css.stack}>
        <Integrations />
        <ShopSettings />
        <SigningKeys />
        <ApiTokens />
      </div>
    </>
  );
}

/** A short badge, and what to do about it in words that may wrap (a phone is narrow). */
const yes = (ok: boolean, text: string, hint?: string, tone: BadgeTone = ok ? "green" : "amber") => (
  <>
    <Badge tone={tone}>{text}</Badge>
    {hint && <span className={`${css.small} ${mutedClass}`}> {hint}</span>}
  </>
);

type IntegrationStatus = RouterOutputs["settings"]["status"];

/** When Stripe's event list was last compared with ours, what was missing, and a button to do it now. */
function Reconciliation({ stripe }: { stripe: IntegrationStatus["stripe"] }) {
  const { reconcileLastRun: run, reconcileRequestedAt: requestedAt } = stripe;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useMutation(
    trpc.settings.reconcileNow.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.settings.pathKey() }),
    }),
  );
  // Without a secret key there is nothing to compare with: off, not an alarm (a fresh install looks like this).
  if (stripe.reconcileOff) return yes(true, "off", "runs every 10 minutes once STRIPE_SECRET_KEY is set", "neutral");
  return (
    <>
      {run ? (
        <>
          last ran {formatRelative(run.finishedAt)}: Stripe listed {run.listed}, {run.stored} {run.stored === 1 ? "was" : "were"} missing here
          {run.error ? <> · {yes(false, "stopped early", run.error)}</> : null}
        </>
      ) : (
        yes(false, "never ran", "it runs every 10 minutes once Stripe is configured")
      )}
      {requestedAt ? <span className={`${css.small} ${mutedClass}`}> · last asked {formatRelative(requestedAt)}</span> : null}{" "}
      <Button size="small" onClick={() => now.mutate()} disabled={now.isPending}>
        {now.isPending ? "Asking…" : now.isSuccess ? "Queued" : "Reconcile now"}
      </Button>
      {now.isError && <MutationError error={now.error} />}
    </>
  );
}

function Integrations() {
  const trpc = useTRPC();
  const status = useQuery(trpc.settings.status.queryOptions());
  if (status.isPending) return <LoadingState label="Loading status…" />;
  if (status.isError) return <ErrorState title="Could not load the status." error={status.error} onRetry={() => void status.refetch()} />;
  const s = status.data;
  const seen = s.stripe.webhookLastSeen;
  const rejected = s.stripe.webhookRejected;
  return (
    <div className={css.twoColumns}>
      <Card title="Stripe">
        <dl className={css.facts}>
          <dt>Secret key</dt>
          <dd>{yes(s.stripe.secretKeySet, s.stripe.secretKeySet ? "set" : "not set", s.stripe.secretKeySet ? undefined : "STRIPE_SECRET_KEY")}</dd>
          <dt>Webhook secret</dt>
          <dd>{yes(s.stripe.webhookSecretSet, s.stripe.webhookSecretSet ? "set" : "not set", s.stripe.webhookSecretSet ? undefined : "STRIPE_WEBHOOK_SECRET")}</dd>
          <dt>Webhook URL</dt>
          <dd className={monoClass}>{s.stripe.webhookUrl}</dd>
          <dt>Webhook last seen</dt>
          <dd>
            {seen ? (
              <>
                {formatRelative(seen.at)} ({formatDateTime(seen.at)}){seen.type ? ` · ${seen.type}` : ""}
              </>
            ) : (
              yes(false, "never", rejected ? "deliveries arrive but are rejected (below)" : undefined)
            )}
          </dd>
          <dt>Rejected deliveries</dt>
          <dd>
            {rejected ? (
              yes(
                false,
                `arriving but rejected: ${rejected.count}`,
                `last at ${formatDateTime(rejected.lastAt)} (${formatRelative(rejected.lastAt)}); ${[
                  rejected.invalidSignature && `${rejected.invalidSignature} with a bad signature (check STRIPE_WEBHOOK_SECRET)`,
                  rejected.notConfigured && `${rejected.notConfigured} while STRIPE_WEBHOOK_SECRET was not set`,
                ]
                  .filter(Boolean)
                  .join(", ")}`,
              )
            ) : (
              <span className={mutedClass}>none</span>
            )}
          </dd>
          {s.stripe.apiUrl && (
            <>
              <dt>API URL</dt>
              <dd className={monoClass}>{s.stripe.apiUrl}</dd>
            </>
          )}
          <dt>Reconciliation</dt>
          <dd>
            <Reconciliation stripe={s.stripe} />
          </dd>
        </dl>
      </Card>
      <Card title="Email">
        <dl className={css.facts}>
          <dt>Provider</dt>
          <dd>
            {s.email.provider === "resend"
              ? yes(true, "Resend")
              : s.email.provider === "smtp"
                ? yes(true, "SMTP")
                : s.email.route === "hold"
                  ? yes(false, "none", `${s.email.waiting} ${s.email.waiting === 1 ? "email" : "emails"} waiting in the outbox`)
                  : yes(false, "none", "emails only reach the dev mailbox")}
          </dd>
          <dt>Sender</dt>
          <dd>{s.email.from}</dd>
          <dt>App URL</dt>
          <dd className={monoClass}>{s.appUrl}</dd>
          <dt>Admins</dt>
          <dd>{s.admins} in ADMIN_EMAILS</dd>
          <dt>Bootstrap API token</dt>
          <dd>{s.bootstrapApiTokenSet ? "ADMIN_API_TOKEN is set" : "not set"}</dd>
          <dt>Offline tokens</dt>
          <dd>last {durationText(s.offlineTokenTtlSeconds)} by default</dd>
        </dl>
        {s.email.provider === "dev" && (
          <p className={`${css.small} ${mutedClass}`}>
            Customers get no email until RESEND_API_KEY or SMTP_URL is set
            {s.email.route === "hold"
              ? ": in production each email waits in the outbox (keys sealed, nothing logged) and is sent once Keystead restarts with a provider"
              : "; until then the dev mailbox (/dev/mailbox) shows them, outside production only"}
            . See <Link href="/admin/setup">Setup</Link>.
          </p>
        )}
      </Card>
    </div>
  );
}

function SigningKeys() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.settings.signingKeys.queryOptions());
  const [confirming, setConfirming] = useState(false);
  const rotate = useMutation(
    trpc.settings.rotateSigningKey.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await queryClient.invalidateQueries({ queryKey: trpc.settings.pathKey() });
      },
    }),
  );
  return (
    <Card
      title="Signing keys"
      actions={
        <Button size="small" onClick={() => (rotate.reset(), setConfirming(true))}>
          Rotate signing key
        </Button>
      }
    >
      <p className={`${css.small} ${mutedClass}`}>
        Offline tokens are signed with the newest key. After a rotation the older keys stay in the JWKS
        (/api/v1/jwks) until every token they signed has expired, so nothing already handed out stops verifying.
      </p>
      {rotate.data && (
        <p role="status" className={css.small}>
          ✓ New key {rotate.data.kid} signs from now on; the previous one stays published for {durationText(rotate.data.keepPublishedSeconds)}.
        </p>
      )}
      {keys.isPending ? (
        <LoadingState />
      ) : keys.isError ? (
        <ErrorState error={keys.error} onRetry={() => void keys.refetch()} />
      ) : (
        <Table label="Signing keys">
          <thead>
            <tr>
              <th>Key id</th>
              <th>State</th>
              <th>Created</th>
              <th>Retired</th>
              <th>Leaves the JWKS</th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((k) => (
              <tr key={k.kid}>
                <td className={monoClass}>{k.kid}</td>
                <td>
                  <Badge tone={k.state === "signing" ? "green" : k.state === "published" ? "blue" : "neutral"}>{k.state}</Badge>
                </td>
                <td className={css.nowrap}>{formatDateTime(k.createdAt)}</td>
                <td className={css.nowrap}>{formatDateTime(k.retiredAt)}</td>
                <td className={css.nowrap}>{k.unpublishAt ? formatDateTime(k.unpublishAt) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <ConfirmDialog
        open={confirming}
        title="Rotate the signing key?"
        confirmLabel="Rotate"
        danger
        busy={rotate.isPending}
        error={rotate.error ? errorMessage(rotate.error) : undefined}
        onCancel={() => setConfirming(false)}
        onConfirm={() => rotate.mutate()}
      >
        A new key signs every offline token from now on. The current key stops signing but stays in the JWKS until the
        longest-lived token it signed has expired. Do this when a key may have leaked, or on a schedule.
      </ConfirmDialog>
    </Card>
  );
}

type ApiToken = RouterOutputs["settings"]["apiTokens"][number];

function ApiTokens() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.settings.apiTokens.queryOptions());
  const [name, setName] = useState("");
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.settings.apiTokens.queryKey() });
  const create = useMutation(
    trpc.settings.createApiToken.mutationOptions({
      onSuccess: async () => {
        setName("");
        await invalidate();
      },
    }),
  );
  const revoke = useMutation(
    trpc.settings.revokeApiToken.mutationOptions({
      onSuccess: async () => {
        setRevoking(null);
        await invalidate();
      },
    }),
  );
  return (
    <Card title="API tokens">
      <p className={`${css.small} ${mutedClass}`}>
        Bearer tokens for the management API (/api/v1/admin, described at /api/v1/openapi.json). Only a hash is stored:
        a token is shown once, when it is made.
      </p>
      {create.data && (
        <div style={{ margin: "0.75rem 0" }}>
          <SecretOnce label={`Token “${create.data.apiToken.name}”`} value={create.data.token}>
            Send it as <span className={monoClass}>Authorization: Bearer …</span>. It is not shown again.
          </SecretOnce>
        </div>
      )}
      <form
        className={css.row}
        style={{ alignItems: "flex-end", marginBottom: "0.75rem" }}
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ name: name.trim() });
        }}
      >
        <div style={{ flex: "1 1 220px" }}>
          <Field label="New token's name" htmlFor="token-name">
            <input id="token-name" className={inputClass} value={name} onChange={(e) => setName(e.target.value)} placeholder="CI, billing script…" required />
          </Field>
        </div>
        <div style={{ marginBottom: "0.9rem" }}>
          <Button type="submit" variant="primary" loading={create.isPending}>
            Create token
          </Button>
        </div>
      </form>
      <MutationError error={create.error} />
      {tokens.isPending ? (
        <LoadingState />
      ) : tokens.isError ? (
        <ErrorState error={tokens.error} onRetry={() => void tokens.refetch()} />
      ) : tokens.data.length === 0 ? (
        <p className={css.small}>No token made here yet{" "}(the ADMIN_API_TOKEN setting works without one).</p>
      ) : (
        <Table label="API tokens">
          <thead>
            <tr>
              <th>Name</th>
              <th>Token</th>
              <th>Made by</th>
              <th>Created</th>
              <th>Last used</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.id}>
                <td>
                  {t.name} {t.revokedAt && <Badge tone="red">revoked</Badge>}
                </td>
                <td className={monoClass}>{t.tokenStart}…</td>
                <td>{t.createdBy ?? "—"}</td>
                <td className={css.nowrap}>{formatDateTime(t.createdAt)}</td>
                <td className={css.nowrap}>{formatRelative(t.lastUsedAt)}</td>
                <td>
                  {!t.revokedAt && (
                    <Button size="small" variant="danger" onClick={() => (revoke.reset(), setRevoking(t))}>
                      Revoke
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke “${revoking?.name ?? ""}”?`}
        confirmLabel="Revoke"
        danger
        busy={revoke.isPending}
        error={revoke.error ? errorMessage(revoke.error) : undefined}
        onCancel={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate({ id: revoking.id })}
      >
        Anything using this token gets 401 from its next request on. This cannot be undone.
      </ConfirmDialog>
    </Card>
  );
}
