"use client";

import { useQuery } from "@tanstack/react-query";
import { ErrorState, LoadingState } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import css from "./webhooks.module.css";

/** The event types as checkboxes, each with what it means. */
export function EventsField({ value, onChange }: { value: string[]; onChange: (events: string[]) => void }) {
  const trpc = useTRPC();
  const types = useQuery(trpc.webhooks.eventTypes.queryOptions());
  if (types.isPending) return <LoadingState label="Loading event types…" />;
  if (types.isError) return <ErrorState error={types.error} onRetry={() => void types.refetch()} />;
  const all = types.data.map((t) => t.type);
  return (
    <fieldset className={css.events}>
      <legend>
        Events{" "}
        <button
          type="button"
          className="linkish"
          style={{ font: "inherit", fontWeight: 400, fontSize: "0.85rem", background: "none", border: 0, color: "#1d4ed8", cursor: "pointer", padding: 0 }}
          onClick={() => onChange(value.length === all.length ? [] : all)}
        >
          {value.length === all.length ? "(none)" : "(all)"}
        </button>
      </legend>
      {types.data.map((t) => (
        <label key={t.type} className={css.event}>
          <input
            type="checkbox"
            checked={value.includes(t.type)}
            onChange={(e) => onChange(e.target.checked ? [...value, t.type] : value.filter((v) => v !== t.type))}
          />
          <span>
            <code>{t.type}</code>
            <span className={css.eventHint}>{t.description}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}
