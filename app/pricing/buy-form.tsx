"use client";

import { useState } from "react";
import css from "./shop.module.css";

/**
 * A price's Buy button. It asks POST /api/v1/checkout for the Checkout URL as JSON and goes there: the page's
 * Content-Security-Policy (form-action 'self') would stop a plain form post from following the 303 to Stripe's
 * origin. The answer's cookie is what later lets the success page show this browser its key.
 */
export function BuyForm({ priceId, label, ariaLabel }: { priceId: string; label: string; ariaLabel: string }) {
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  return (
    <form
      method="post"
      action="/api/v1/checkout"
      onSubmit={async (e) => {
        e.preventDefault();
        setState({ busy: true });
        try {
          const res = await fetch("/api/v1/checkout", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ price: priceId }),
          });
          const body = await res.json().catch(() => null);
          if (res.ok && body?.url) {
            window.location.assign(body.url);
            return;
          }
          setState({ busy: false, error: body?.error?.message ?? "Checkout could not start; please try again." });
        } catch {
          setState({ busy: false, error: "We could not be reached; check your connection and try again." });
        }
      }}
    >
      <input type="hidden" name="price" value={priceId} />
      <button type="submit" className={css.buy} aria-label={ariaLabel} disabled={state.busy} aria-busy={state.busy || undefined}>
        {state.busy ? "Opening checkout…" : label}
      </button>
      {state.error && (
        <p className={`${css.notice} ${css.error}`} role="alert" style={{ marginTop: "0.5rem" }}>
          {state.error}
        </p>
      )}
    </form>
  );
}
