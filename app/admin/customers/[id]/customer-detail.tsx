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
  Field,
  LinkButton,
  LoadingState,
  PageHeader,
  StatusBadge,
  Table,
  errorMessage,
  formatDate,
  formatDateTime,
  inputClass,
  monoClass,
  mutedClass,
} from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import { keyHintText, partsCss as css } from "../../licenses/_parts/ui";

export function CustomerDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const customer = useQuery(trpc.customers.get.queryOptions({ id }, { staleTime: 0 }));

  if (customer.isPending) return <LoadingState label="Loading the customer…" />;
  if (customer.isError) {
    return (
      <>
        <PageHeader title="Customer" />
        <ErrorState title="Could not load this customer." error={customer.error} onRetry={() => void customer.refetch()} />
        <p>
          <Link href="/admin/customers">← All customers</Link>
        </p>
      </>
    );
  }
  const { customer: c, licenses, emails, payments, stripe } = customer.data;
  return (
    <>
      <PageHeader
        title={c.email}
        description={c.name ?? undefined}
        actions={
          <LinkButton href={`/admin/licenses/new`} size="small">
            Issue a license
          </LinkButton>
        }
      />
      <div className={css.twoColumns}>
        <Card title="Customer">
          <dl className={css.facts}>
            <dt>Email</dt>
            <dd>{c.email}</dd>
            <dt>Stripe</dt>
            <dd className={monoClass}>{c.stripeCustomerId ?? "—"}</dd>
            <dt>Since</dt>
            <dd>{formatDateTime(c.createdAt)}</dd>
            {c.deletedAt && (
              <>
                <dt>Stripe customer deleted</dt>
                <dd>{formatDateTime(c.deletedAt)}</dd>
              </>
            )}
            <dt>Customer id</dt>
            <dd className={monoClass}>{c.id}</dd>
          </dl>
        </Card>
        <ChangeEmail id={c.id} email={c.email} />
      </div>

      <div className={css.stack} style={{ marginTop: "1rem" }}>
        <Card
          title={`Licenses (${c.licenses})`}
          actions={
            c.licenses > licenses.length ? (
              <Link href={`/admin/licenses?customer=${c.id}`} className={css.small}>
                All {c.licenses} →
              </Link>
            ) : undefined
          }
        >
          {licenses.length === 0 ? (
            <p className={css.small}>No license.</p>
          ) : (
            <Table label="Licenses">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Product · plan</th>
                  <th>Status</th>
                  <th>Devices</th>
                  <th>Expires</th>
                </tr>
              </thead>
              <tbody>
                {licenses.map((l) => (
                  <tr key={l.id}>
                    <td>
                      <Link href={`/admin/licenses/${l.id}`} className={monoClass}>
                        {keyHintText(l.keyHint)}
                      </Link>
                    </td>
                    <td>
                      {l.product.name} · {l.plan.name}
                    </td>
                    <td>
                      <StatusBadge status={l.status} />
                    </td>
                    <td>
                      {l.activations} / {l.maxActivations}
                    </td>
                    <td className={css.nowrap}>{l.expiresAt ? formatDate(l.expiresAt) : "never"}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </Card>

        <Card title="Payments">
          {payments.length === 0 ? (
            <p className={css.small}>No payment recorded{stripe.length === 0 ? ": every license of this customer was issued by hand." : " yet."}</p>
          ) : (
            <Table label="Payments">
              <thead>
                <tr>
                  <th>Paid</th>
                  <th>Amount</th>
                  <th>Kind</th>
                  <th>Status</th>
                  <th>Period</th>
                  <th>License</th>
                </tr>
              </thead>
              <tbody>
                {payments.map((p) => (
                  <tr key={p.id}>
                    <td className={css.nowrap}>{formatDateTime(p.createdAt)}</td>
                    <td className={css.nowrap}>
                      {money(p.amount, p.currency)}
                      {p.amountRefunded > 0 && <div className={css.small}>refunded {money(p.amountRefunded, p.currency)}</div>}
                    </td>
                    <td>
                      {p.kind === "purchase" ? "purchase" : "subscription invoice"}
                      {p.billingReason && <div className={`${css.small} ${mutedClass}`}>{p.billingReason.replaceAll("_", " ")}</div>}
                    </td>
                    <td>
                      <Badge tone={p.status === "paid" ? "green" : p.status === "open" ? "amber" : p.status === "uncollectible" ? "red" : "neutral"}>{p.status}</Badge>
                    </td>
                    <td className={css.nowrap}>{p.periodEnd ? `${formatDate(p.periodStart)} – ${formatDate(p.periodEnd)}` : "—"}</td>
                    <td>
                      {p.licenseId ? (
                        <Link href={`/admin/licenses/${p.licenseId}`} className={monoClass}>
                          open
                        </Link>
                      ) : (
                        <span className={`${monoClass} ${css.small}`}>{p.stripeCheckoutSessionId ?? p.stripeInvoiceId}</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
          {stripe.length > 0 && (
            <details style={{ marginTop: "0.75rem" }}>
              <summary className={css.small}>Stripe objects and events per license</summary>
              <Table label="Stripe objects">
                <thead>
                  <tr>
                    <th>License</th>
                    <th>Stripe objects</th>
                    <th>Events</th>
                  </tr>
                </thead>
                <tbody>
                  {stripe.map((p) => (
                    <tr key={p.licenseId}>
                      <td>
                        <Link href={`/admin/licenses/${p.licenseId}`} className={monoClass}>
                          {keyHintText(p.keyHint)}
                        </Link>
                      </td>
                      <td className={`${monoClass} ${css.small}`}>
                        {[p.checkoutSessionId, p.subscriptionId, p.paymentIntentId, p.priceId].filter(Boolean).join(" · ")}
                      </td>
                      <td className={css.small}>
                        {p.events.length === 0
                          ? "—"
                          : p.events.map((e) => (
                              <div key={e.id}>
                                <Link href={`/admin/stripe-events/${encodeURIComponent(e.id)}`}>{e.type}</Link> <StatusBadge status={e.status} />{" "}
                                <span className={mutedClass}>{formatDateTime(e.receivedAt)}</span>
                              </div>
                            ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            </details>
          )}
        </Card>

        <Card
          title="Emails"
          actions={
            <Link href={`/admin/emails?customer=${c.id}`} className={css.small}>
              In the outbox →
            </Link>
          }
        >
          {emails.length === 0 ? (
            <p className={css.small}>No email yet.</p>
          ) : (
            <Table label="Emails">
              <thead>
                <tr>
                  <th>Email</th>
                  <th>To</th>
                  <th>Status</th>
                  <th>Attempts</th>
                  <th>Queued</th>
                </tr>
              </thead>
              <tbody>
                {emails.map((m) => (
                  <tr key={m.id}>
                    <td>
                      {m.subject ?? m.template}
                      {m.lastError && <div className={`${css.small} ${mutedClass}`}>Last error: {m.lastError}</div>}
                    </td>
                    <td>{m.to}</td>
                    <td>
                      <StatusBadge status={m.status} />
                    </td>
                    <td>{m.attempts}</td>
                    <td className={css.nowrap}>{formatDateTime(m.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
        </Card>
      </div>
    </>
  );
}

/** "€49.00": minor units in the payment's currency, in the viewer's locale. */
function money(minor: number, currency: string | null): string {
  if (!currency) return (minor / 100).toFixed(2);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency.toUpperCase()}`;
  }
}

function ChangeEmail({ id, email }: { id: string; email: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [value, setValue] = useState(email);
  const [confirming, setConfirming] = useState(false);
  const change = useMutation(
    trpc.customers.changeEmail.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await queryClient.invalidateQueries({ queryKey: trpc.customers.pathKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.licenses.pathKey() });
      },
    }),
  );
  return (
    <Card title="Change email">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          change.reset();
          setConfirming(true);
        }}
      >
        <Field label="New email" htmlFor="customer-email" hint="Future emails go here, and the customer signs in to the portal with it. Stripe keeps its own copy.">
          <input id="customer-email" type="email" className={inputClass} value={value} onChange={(e) => setValue(e.target.value)} required />
        </Field>
        {change.isSuccess && <p className={css.small}>✓ Saved.</p>}
        <Button type="submit" disabled={value.trim() === email}>
          Change email
        </Button>
      </form>
      <ConfirmDialog
        open={confirming}
        title="Change this customer's email?"
        confirmLabel="Change email"
        busy={change.isPending}
        error={change.error ? errorMessage(change.error) : undefined}
        onCancel={() => setConfirming(false)}
        onConfirm={() => change.mutate({ id, email: value.trim() })}
      >
        From {email} to <strong>{value.trim()}</strong>.
      </ConfirmDialog>
    </Card>
  );
}
