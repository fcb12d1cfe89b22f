"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_trpc/client";
import { Card, DottedName, ErrorState, Grid, LoadingState, Notice, PageHeader, Stat, formatDateTime, formatNumber, formatRelative } from "@/app/_components";
import type { RouterOutputs } from "./licenses/_parts/types";
import { DailyChart } from "./daily-chart";
import { ResetRequests } from "./reset-requests";
import css from "./dashboard.module.css";

const DAYS = 30;

type Summary = RouterOutputs["dashboard"]["summary"];

/** "Never seen" and "arriving but rejected" are different problems: the second is a wrong STRIPE_WEBHOOK_SECRET. */
function WebhookStat({ seen, rejected }: { seen: Summary["webhookLastSeen"]; rejected: Summary["webhookRejected"] }) {
  if (seen) {
    return (
      <Stat
        label="Webhook last seen"
        value={formatRelative(seen.at)}
        // Event types are long words (customer.subscription.pending_update_expired): they wrap at their dots, and
        // anywhere only if a single part is still wider than the card.
        hint={
          <span className={css.wrapAnywhere}>
            <DottedName>{seen.type ?? "event"}</DottedName> · {formatDateTime(seen.at)}
          </span>
        }
      />
    );
  }
  return (
    <Stat
      label="Webhook last seen"
      value="never"
      warn
      hint={
        rejected ? (
          <Link href="/admin/settings">
            {rejected.count} rejected, last {formatRelative(rejected.lastAt)}
          </Link>
        ) : (
          "no Stripe webhook has arrived"
        )
      }
    />
  );
}

export function Dashboard() {
  const trpc = useTRPC();
  const summary = useQuery(trpc.dashboard.summary.queryOptions(undefined, { refetchInterval: 30_000 }));
  const series = useQuery(trpc.dashboard.series.queryOptions({ days: DAYS }, { refetchInterval: 60_000 }));
  const setup = useQuery(trpc.dashboard.setup.queryOptions());

  return (
    <>
      <PageHeader title="Dashboard" description="Licenses, activations and the health of payments and email." />

      {setup.data && !setup.data.complete && (
        <div className={css.banner}>
          <Notice>
            <strong>
              Setup is not finished: {setup.data.missing} {setup.data.missing === 1 ? "thing is" : "things are"} missing.
            </strong>
            <ul>
              {setup.data.checks
                .filter((c) => !c.ok)
                .map((c) => (
                  <li key={c.id}>{c.status}</li>
                ))}
            </ul>
            <p style={{ margin: "0.5rem 0 0" }}>
              <Link href="/admin/setup">See how to fix each →</Link>
            </p>
          </Notice>
        </div>
      )}

      {summary.data?.waitingEmailsMessage && (
        <div className={css.banner}>
          <Notice>
            <strong>{summary.data.waitingEmailsMessage}</strong>{" "}
            <Link href="/admin/emails?status=waiting">See them</Link>
          </Notice>
        </div>
      )}

      <ResetRequests className={css.banner} />

      <section className={css.section} aria-label="Figures">
        {summary.isPending ? (
          <LoadingState label="Loading figures…" />
        ) : summary.isError ? (
          <ErrorState title="Could not load the figures." error={summary.error} onRetry={() => void summary.refetch()} />
        ) : (
          <Grid>
            <Stat
              label="Active licenses"
              value={formatNumber(summary.data.activeLicenses)}
              hint={summary.data.pastDueLicenses ? `+ ${formatNumber(summary.data.pastDueLicenses)} past due` : undefined}
            />
            <Stat label="Activations" value={formatNumber(summary.data.activations)} hint="devices using a seat" />
            <Stat
              label="Failed emails"
              value={formatNumber(summary.data.failedEmails)}
              warn={summary.data.failedEmails > 0}
              hint={summary.data.failedEmails > 0 ? <Link href="/admin/emails">Review and retry</Link> : "none"}
            />
            {summary.data.waitingEmails > 0 && (
              <Stat
                label="Emails waiting"
                value={formatNumber(summary.data.waitingEmails)}
                warn
                hint={<Link href="/admin/emails?status=waiting">for an email provider</Link>}
              />
            )}
            <Stat
              label="Stripe events waiting"
              value={formatNumber(summary.data.pendingStripeEvents)}
              hint="received, not processed yet"
            />
            <Stat
              label="Failed Stripe events"
              value={formatNumber(summary.data.failedStripeEvents)}
              warn={summary.data.failedStripeEvents > 0}
              hint={summary.data.failedStripeEvents > 0 ? <Link href="/admin/stripe-events">Review and replay</Link> : "none"}
            />
            <WebhookStat seen={summary.data.webhookLastSeen} rejected={summary.data.webhookRejected} />
          </Grid>
        )}
      </section>

      <section className={css.section} aria-label="Per day">
        <h2 className={css.sectionTitle}>Per day (UTC), last {DAYS} days</h2>
        {series.isPending ? (
          <LoadingState label="Loading charts…" />
        ) : series.isError ? (
          <ErrorState title="Could not load the charts." error={series.error} onRetry={() => void series.refetch()} />
        ) : (
          <div className={css.charts}>
            <Card title="Licenses issued">
              <DailyChart data={series.data} metric="issued" color="#4f46e5" label="Licenses issued" />
            </Card>
            <Card title="Validations">
              <DailyChart data={series.data} metric="validations" color="#0891b2" label="Validations" />
            </Card>
            <Card title="New activations">
              <DailyChart data={series.data} metric="activations" color="#16a34a" label="New activations" />
            </Card>
          </div>
        )}
        <p className={css.chartNote}>
          Validations and activations are counted in memory and saved every few seconds, so today&apos;s bars trail
          slightly.
        </p>
      </section>
    </>
  );
}
