"use client";

import { useId, useRef, useState } from "react";
import css from "./shop.module.css";

/** "Start free trial": asks for an email, then says to check it (the same words whatever the address). */
export function TrialForm({ plan, trialDays, planLabel }: { plan: string; trialDays: number; planLabel: string }) {
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<{ kind: "idle" | "sending" | "sent" | "error"; message?: string }>({ kind: "idle" });
  const id = useId();
  const input = useRef<HTMLInputElement>(null);

  if (!open) {
    return (
      <button
        type="button"
        className={css.secondary}
        onClick={() => {
          setOpen(true);
          setTimeout(() => input.current?.focus(), 0);
        }}
        aria-label={`Start ${trialDays}-day free trial: ${planLabel}`}
      >
        {`Start ${trialDays}-day free trial`}
      </button>
    );
  }
  if (state.kind === "sent") {
    return (
      <p className={`${css.notice} ${css.ok}`} role="status">
        {state.message}
      </p>
    );
  }
  return (
    <form
      className={css.form}
      onSubmit={async (e) => {
        e.preventDefault();
        const email = new FormData(e.currentTarget).get("email");
        setState({ kind: "sending" });
        try {
          const res = await fetch("/api/v1/trials", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ plan, email }),
          });
          const body = await res.json().catch(() => null);
          if (res.status === 202) setState({ kind: "sent", message: `${body?.message ?? "Check your email."} No card needed.` });
          else setState({ kind: "error", message: body?.error?.message ?? "The trial could not be started; please try again." });
        } catch {
          setState({ kind: "error", message: "We could not be reached; check your connection and try again." });
        }
      }}
    >
      <label htmlFor={`${id}-email`} className={css.label}>
        Email address for your trial
      </label>
      <input
        ref={input}
        id={`${id}-email`}
        name="email"
        type="email"
        required
        autoComplete="email"
        className={css.input}
        aria-describedby={state.kind === "error" ? `${id}-error` : `${id}-hint`}
        aria-invalid={state.kind === "error" || undefined}
      />
      {state.kind === "error" ? (
        <p id={`${id}-error`} className={`${css.notice} ${css.error}`} role="alert">
          {state.message}
        </p>
      ) : (
        <p id={`${id}-hint`} className={css.small}>
          {`We email you a link to confirm; your ${trialDays}-day trial key follows. No card needed.`}
        </p>
      )}
      <button type="submit" className={css.buy} disabled={state.kind === "sending"}>
        {state.kind === "sending" ? "Sending…" : "Email me the trial link"}
      </button>
    </form>
  );
}
