"use client";

import { useEffect, useRef, useState } from "react";
import { LicenseResult, type ShownLicense } from "@/app/pricing/license-result";
import css from "@/app/pricing/shop.module.css";

type Result = { license: ShownLicense; email: string };

export function ConfirmTrial({ token }: { token: string }) {
  const [state, setState] = useState<{ kind: "idle" | "busy" } | { kind: "done"; result: Result } | { kind: "error"; code: string; message: string }>({
    kind: "idle",
  });
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (state.kind === "done" || state.kind === "error") heading.current?.focus();
  }, [state.kind]);

  if (state.kind === "done") {
    return (
      <>
        <h1 ref={heading} tabIndex={-1}>
          Your free trial has started
        </h1>
        <p className={`${css.notice} ${css.ok}`} role="status">
          {`Your trial key is also on its way by email to ${state.result.email}.`}
        </p>
        <LicenseResult license={state.result.license} />
        <p className={css.small} style={{ marginTop: "1rem" }}>
          Buying the product before the trial ends keeps this same key. <a href="/pricing">See prices</a>.
        </p>
      </>
    );
  }
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {state.kind === "error" ? (state.code === "TRIAL_USED" ? "You have already had a trial" : "This link does not work") : "Start your free trial"}
      </h1>
      {state.kind === "error" ? (
        <p className={`${css.notice} ${css.error}`} role="alert">
          {state.message}
        </p>
      ) : (
        <p className={css.small} style={{ marginBottom: "1rem" }}>
          Press the button to confirm your email address and get your trial license key.
        </p>
      )}
      {state.kind !== "error" && (
        <button
          type="button"
          className={css.buy}
          disabled={state.kind === "busy"}
          onClick={async () => {
            setState({ kind: "busy" });
            try {
              const res = await fetch("/api/v1/trials/confirm", {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ token }),
              });
              const body = await res.json().catch(() => null);
              if (res.ok) setState({ kind: "done", result: body as Result });
              else setState({ kind: "error", code: body?.error?.code ?? "ERROR", message: body?.error?.message ?? "The trial could not be started." });
            } catch {
              setState({ kind: "error", code: "NETWORK", message: "We could not be reached; check your connection and reload this page." });
            }
          }}
        >
          {state.kind === "busy" ? "Starting…" : "Start my trial"}
        </button>
      )}
      {state.kind === "error" && (
        <p className={css.small}>
          <a href="/pricing">Back to pricing</a>
        </p>
      )}
    </>
  );
}
