"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Button, Card, EmptyState, ErrorState, Field, LinkButton, LoadingState, PageHeader, inputClass, mutedClass } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import { MutationError, SecretOnce, partsCss as css } from "../_parts/ui";

/** Issue a license by hand (a deal closed outside Stripe, a replacement, a gift): the same rules as the API. */
export function IssueLicenseForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const catalog = useQuery(trpc.catalog.list.queryOptions());
  const [plan, setPlan] = useState("");
  const [email, setEmail] = useState("");
  const [seats, setSeats] = useState("");
  const [expiry, setExpiry] = useState<"plan" | "date" | "never">("plan");
  const [date, setDate] = useState("");
  const issue = useMutation(
    trpc.licenses.issue.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.licenses.search.pathKey() }),
    }),
  );

  const plans = (catalog.data?.plans ?? []).filter((p) => !p.archivedAt);
  const chosen = plans.find((p) => p.slug === plan);

  if (issue.data) {
    const { license, key } = issue.data;
    return (
      <>
        <PageHeader title="License issued" description={`For ${license.customer.email}. The license email is on its way to them.`} />
        <SecretOnce label="The new license key" value={key}>
          This is the only time the admin app shows the full key. The customer also gets it by email.
        </SecretOnce>
        <div className={css.row} style={{ marginTop: "1rem" }}>
          <LinkButton href={`/admin/licenses/${license.id}`} variant="primary">
            Open the license
          </LinkButton>
          <Button
            onClick={() => {
              issue.reset();
              setEmail("");
            }}
          >
            Issue another
          </Button>
        </div>
      </>
    );
  }

  return (
    <>
      <PageHeader title="Issue a license" description="The customer is created if the email is new, and gets the license email with the key." />
      {catalog.isPending ? (
        <LoadingState label="Loading plans…" />
      ) : catalog.isError ? (
        <ErrorState title="Could not load the plans." error={catalog.error} onRetry={() => void catalog.refetch()} />
      ) : plans.length === 0 ? (
        <EmptyState title="No plan to issue from." action={<LinkButton href="/admin/products">Create a product and a plan</LinkButton>}>
          A license is always of a plan: create one first.
        </EmptyState>
      ) : (
        <Card>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              issue.mutate({
                plan,
                email: email.trim(),
                seats: seats ? Number(seats) : undefined,
                expiresAt: expiry === "never" ? null : expiry === "date" && date ? new Date(`${date}T23:59:59Z`).toISOString() : undefined,
              });
            }}
          >
            <Field label="Plan" htmlFor="issue-plan">
              <select id="issue-plan" className={inputClass} value={plan} onChange={(e) => setPlan(e.target.value)} required>
                <option value="">Choose a plan…</option>
                {plans.map((p) => (
                  <option key={p.id} value={p.slug}>
                    {p.product} · {p.name} ({p.seats} {p.seats === 1 ? "seat" : "seats"}, {p.durationDays ? `${p.durationDays} days` : "perpetual"})
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Customer email" htmlFor="issue-email">
              <input id="issue-email" type="email" className={inputClass} value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="off" />
            </Field>
            <Field label="Seats" htmlFor="issue-seats" hint={chosen ? `Empty: the plan's ${chosen.seats}.` : "Empty: the plan's seats."}>
              <input id="issue-seats" type="number" min={1} className={inputClass} value={seats} onChange={(e) => setSeats(e.target.value)} />
            </Field>
            <Field label="Expiry" htmlFor="issue-expiry">
              <select id="issue-expiry" className={inputClass} value={expiry} onChange={(e) => setExpiry(e.target.value as typeof expiry)}>
                <option value="plan">
                  As the plan says{chosen ? ` (${chosen.durationDays ? `${chosen.durationDays} days from today` : "never"})` : ""}
                </option>
                <option value="date">On a date…</option>
                <option value="never">Never (perpetual)</option>
              </select>
            </Field>
            {expiry === "date" && (
              <Field label="Expires at the end of (UTC)" htmlFor="issue-date">
                <input id="issue-date" type="date" className={inputClass} value={date} onChange={(e) => setDate(e.target.value)} required />
              </Field>
            )}
            <MutationError error={issue.error} />
            <div className={css.row} style={{ marginTop: "0.75rem" }}>
              <Button type="submit" variant="primary" loading={issue.isPending}>
                Issue license
              </Button>
              <Link href="/admin/licenses" className={mutedClass}>
                Cancel
              </Link>
            </div>
          </form>
        </Card>
      )}
    </>
  );
}
