"use client";

import { useState, type ReactNode } from "react";
import { Button, ErrorState, Notice, errorMessage } from "@/app/_components";
import css from "./parts.module.css";

/**
 * Small pieces the admin areas share (licenses, customers, products, Stripe events, emails, settings, audit).
 * Everything generic lives in app/_components; these are the admin-specific bits on top.
 */
export { css as partsCss };

/** A secret shown once (a new license key, a new API token): copy it now, it is not shown again. */
export function SecretOnce({ label, value, children }: { label: string; value: string; children?: ReactNode }) {
  const [copied, setCopied] = useState(false);
  return (
    <Notice tone="success">
      <strong>{label}</strong>
      <div className={css.secret}>
        <code className={css.secretValue} data-testid="secret-value">
          {value}
        </code>
        <Button
          size="small"
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(
              () => setCopied(true),
              () => setCopied(false),
            );
          }}
        >
          {copied ? "Copied" : "Copy"}
        </Button>
      </div>
      {children ?? "Copy it now: it is not shown again."}
    </Notice>
  );
}

/** Any JSON value, pretty-printed and scrollable. */
export function JsonBlock({ value, label }: { value: unknown; label?: string }) {
  if (value === null || value === undefined) return <span className={css.small}>—</span>;
  return (
    <pre className={css.json} aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** The "Load more" button under a keyset-paged list. */
export function LoadMore({
  hasNextPage,
  isFetchingNextPage,
  fetchNextPage,
  error,
}: {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
  error?: unknown;
}) {
  if (error) return <ErrorState title="Could not load more." error={error} onRetry={() => void fetchNextPage()} />;
  if (!hasNextPage) return null;
  return (
    <div className={css.more}>
      <Button onClick={() => void fetchNextPage()} loading={isFetchingNextPage}>
        Load more
      </Button>
    </div>
  );
}

/** A mutation's failure, in words, right where the person acted. */
export function MutationError({ error }: { error: unknown }) {
  if (!error) return null;
  return <Notice tone="error">{errorMessage(error)}</Notice>;
}

const ACTOR_LABELS: Record<string, string> = {
  admin: "Admin",
  api_token: "API token",
  customer: "Customer",
  stripe: "Stripe",
  system: "System",
};

/** "Admin ops@example.com", "Stripe evt_…", "System". */
export function actorText(actor: { type: string; id: string | null }): string {
  const label = ACTOR_LABELS[actor.type] ?? actor.type;
  if (!actor.id) return label;
  if (actor.type === "api_token" && actor.id === "bootstrap") return "API token (ADMIN_API_TOKEN)";
  return `${label} ${actor.id}`;
}

/** "license.key_rotated" -> "License key rotated". */
export function actionText(action: string): string {
  const words = action.replace(/[._]/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Seconds as people say them: "14 days", "1 hour", "90 seconds". */
export function durationText(seconds: number | null | undefined, none = "—"): string {
  if (seconds === null || seconds === undefined) return none;
  const units: [number, string][] = [
    [86_400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n.toLocaleString()} ${unit}${n === 1 ? "" : "s"}`;
    }
  }
  return `${seconds.toLocaleString()} seconds`;
}

/** "•••••-…-ABCDE", the way keys are shown everywhere but the moment they are made. */
export const keyHintText = (hint: string) => `…-${hint}`;
