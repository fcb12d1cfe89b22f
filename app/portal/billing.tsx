"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { Button, Card, EmptyState, ErrorState, LoadingState, Table, errorMessage, formatDate } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";

const money = (amount: number, currency: string | null) =>
  currency ? new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(amount / 100) : String(amount);

const STATUS: Record<string, string> = { paid: "Paid", open: "Due", uncollectible: "Unpaid", void: "Voided" };

/** The portal's billing: "Manage billing" (Stripe's customer portal) and the payments and invoices we know of. */
export function PortalBilling() {
  const trpc = useTRPC();
  const billing = useQuery(trpc.portal.billing.queryOptions());
  const manage = useMutation(
    trpc.portal.manageBilling.mutationOptions({
      onSuccess: ({ url }) => window.location.assign(url),
    }),
  );
  return (
    <div style={{ marginTop: "1.5rem" }}>
      <Card
        title="Billing"
        actions={
          billing.data?.canManage ? (
            <Button variant="primary" size="small" loading={manage.isPending} onClick={() => manage.mutate()}>
              Manage billing
            </Button>
          ) : undefined
        }
      >
        {manage.isError && (
          <p role="alert" style={{ color: "#b91c1c", margin: "0 0 0.5rem" }}>
            {errorMessage(manage.error)}
          </p>
        )}
        {billing.isPending ? (
          <LoadingState label="Loading your payments…" />
        ) : billing.isError ? (
          <ErrorState title="Could not load your payments." error={billing.error} onRetry={() => void billing.refetch()} />
        ) : billing.data.payments.length === 0 ? (
          <EmptyState title="No payments yet">Payments and invoices for your licenses will be listed here.</EmptyState>
        ) : (
          <Table label="Payments and invoices" cardsOnPhone>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">For</th>
                <th scope="col">Amount</th>
                <th scope="col">Status</th>
                <th scope="col">Invoice</th>
              </tr>
            </thead>
            <tbody>
              {billing.data.payments.map((p) => (
                <tr key={p.id}>
                  <td data-label="Date">{formatDate(p.periodStart ?? p.createdAt)}</td>
                  <td data-label="For">{p.forWhat ?? (p.kind === "purchase" ? "Purchase" : "Subscription")}</td>
                  <td data-label="Amount">
                    {money(p.amount, p.currency)}
                    {p.amountRefunded > 0 ? ` (${money(p.amountRefunded, p.currency)} refunded)` : ""}
                  </td>
                  <td data-label="Status">{STATUS[p.status] ?? p.status}</td>
                  <td data-label="Invoice">
                    {p.hostedInvoiceUrl ? (
                      <a href={p.hostedInvoiceUrl} target="_blank" rel="noreferrer noopener">
                        View invoice
                      </a>
                    ) : (
                      "—"
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>
    </div>
  );
}
