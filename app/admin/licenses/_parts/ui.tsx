"use client";

import { useState, type ReactNode } from "react";
import { Button, ErrorState, Field, Notice, errorMessage, inputClass } from "@/app/_components";
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

/** The "Load more" button under a keyset-paged list (a useInfiniteQuery result), or why more did not load. */
export function LoadMore({
  list,
}: {
  list: {
    hasNextPage: boolean;
    isFetchingNextPage: boolean;
    isFetchNextPageError: boolean;
    error: unknown;
    fetchNextPage: () => unknown;
  };
}) {
  if (list.isFetchNextPageError) {
    return <ErrorState title="Could not load more." error={list.error} onRetry={() => void list.fetchNextPage()} />;
  }
  if (!list.hasNextPage) return null;
  return (
    <div className={css.more}>
      <Button onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
        Load more
      </Button>
    </div>
  );
}

/**
 * The filter bar above an admin list: its fields, then the submit button and, while something is filtered
 * (`onClear` given), Clear.
 */
export function FilterBar({
  onSubmit,
  onClear,
  submitLabel = "Filter",
  children,
}: {
  onSubmit: () => void;
  onClear?: () => void;
  submitLabel?: string;
  children: ReactNode;
}) {
  return (
    <form
      role="search"
      className={css.filters}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
      <div className={css.filterActions}>
        <Button type="submit" variant="primary">
          {submitLabel}
        </Button>
        {onClear && <Button onClick={onClear}>Clear</Button>}
      </div>
    </form>
  );
}

type Choice = string | { value: string; label: string };

/** A filter's select: "Any …" (the empty value), then the choices. */
export function FilterSelect({
  id,
  label,
  value,
  onChange,
  any,
  choices,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  any: string;
  choices: readonly Choice[];
}) {
  return (
    <Field label={label} htmlFor={id}>
      <select id={id} className={inputClass} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{any}</option>
        {choices.map((c) => {
          const choice = typeof c === "string" ? { value: c, label: c } : c;
          return (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          );
        })}
      </select>
    </Field>
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
export function actorText(actor: { type: string; id: string | null; name?: string | null }): string {
  const label = ACTOR_LABELS[actor.type] ?? actor.type;
  if (!actor.id) return label;
  if (actor.type === "api_token" && actor.id === "bootstrap") return "API token (ADMIN_API_TOKEN)";
  if (actor.type === "api_token" && actor.name) return `${label} “${actor.name}” (${actor.id})`;
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
