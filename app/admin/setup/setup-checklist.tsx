"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/app/_trpc/client";
import { Badge, Card, ErrorState, LoadingState, Notice, PageHeader } from "@/app/_components";

/** The first-run checklist: each thing Keystead needs, whether it is there, and how to fix it. */
export function SetupChecklist() {
  const trpc = useTRPC();
  const setup = useQuery(trpc.dashboard.setup.queryOptions(undefined, { refetchInterval: 15_000 }));

  return (
    <>
      <PageHeader
        title="Setup"
        description="What this server needs before it can sell licenses by itself. This page checks again every few seconds."
      />
      {setup.isPending ? (
        <LoadingState label="Checking…" />
      ) : setup.isError ? (
        <ErrorState title="Could not check the setup." error={setup.error} onRetry={() => void setup.refetch()} />
      ) : (
        <div style={{ display: "grid", gap: "0.75rem" }}>
          {setup.data.complete ? (
            <Notice tone="success">Everything is set up. Paid checkouts now issue and email license keys by themselves.</Notice>
          ) : (
            <Notice>
              {setup.data.missing} of {setup.data.checks.length} {setup.data.missing === 1 ? "item needs" : "items need"} your
              attention.
            </Notice>
          )}
          {setup.data.checks.map((c) => (
            <Card
              key={c.id}
              title={c.title}
              actions={
                // The card's header row is as tall as its title (margin included): keep the badge its own height.
                <span style={{ alignSelf: "flex-start" }}>
                  <Badge tone={c.ok ? "green" : "amber"}>{c.ok ? "done" : "missing"}</Badge>
                </span>
              }
            >
              {/* Statuses quote event types and URLs, long words that must wrap on a phone. */}
              <p style={{ margin: 0, overflowWrap: "anywhere" }}>{c.status}</p>
              {c.fix.length > 0 && (
                <>
                  <p style={{ margin: "0.75rem 0 0.25rem", fontWeight: 600 }}>How to fix it</p>
                  <ol style={{ margin: 0, paddingLeft: "1.25rem", lineHeight: 1.6, overflowWrap: "anywhere" }}>
                    {c.fix.map((step, i) => (
                      <li key={i}>{step}</li>
                    ))}
                  </ol>
                </>
              )}
            </Card>
          ))}
        </div>
      )}
    </>
  );
}
