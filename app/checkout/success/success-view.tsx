"use client";

import { useEffect, useRef, useState } from "react";
import { LicenseResult, type ShownLicense } from "@/app/pricing/license-result";
import css from "@/app/pricing/shop.module.css";

type SessionAnswer = { status: "processing" | "complete"; licenses: ShownLicense[]; visible: boolean; email: string | null };

const POLL_MS = 2_000;
/** After this long still processing, the page says so plainly (the key will still come by email). */
const SLOW_AFTER_MS = 60_000;
const GIVE_UP_AFTER_MS = 10 * 60_000;

/** Polls the session until its license exists, then shows it; works whichever of webhook and browser came first. */
export function SuccessView({ sessionId }: { sessionId: string }) {
  const [answer, setAnswer] = useState<SessionAnswer | null>(null);
  const [failed, setFailed] = useState(false);
  const [slow, setSlow] = useState(false);
  const started = useRef(Date.now());
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const res = await fetch(`/api/v1/checkout/sessions/${encodeURIComponent(sessionId)}`, { cache: "no-store" });
        if (res.ok) {
          const body = (await res.json()) as SessionAnswer;
          if (stop) return;
          setAnswer(body);
          setFailed(false);
          if (body.status === "complete") return;
        } else if (res.status !== 429) setFailed(true);
      } catch {
        if (!stop) setFailed(true);
      }
      const waited = Date.now() - started.current;
      setSlow(waited > SLOW_AFTER_MS);
      if (!stop && waited < GIVE_UP_AFTER_MS) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [sessionId]);

  const complete = answer?.status === "complete";
  useEffect(() => {
    if (complete) heading.current?.focus();
  }, [complete]);

  if (complete && answer.visible && answer.licenses.length > 0) {
    return (
      <>
        <h1 ref={heading} tabIndex={-1}>
          Thank you! Your license is ready
        </h1>
        <p className={`${css.notice} ${css.ok}`} role="status">
          {`Your key is also on its way by email${answer.email ? ` to ${answer.email}` : ""}. Keep it somewhere safe.`}
        </p>
        <div style={{ display: "grid", gap: "1rem" }}>
          {answer.licenses.map((l) => (
            <LicenseResult key={l.id} license={l} />
          ))}
        </div>
        <p className={css.small} style={{ marginTop: "1rem" }}>
          Manage your devices and billing any time in <a href="/portal">your account</a> (sign in with the email you paid with).
        </p>
      </>
    );
  }
  if (answer && !answer.visible) {
    return (
      <>
        <h1 ref={heading} tabIndex={-1}>
          {complete ? "This purchase is complete" : "We are confirming this payment"}
        </h1>
        <p className={css.notice} role="status">
          This page shows license keys only in the browser that paid, for a day after the purchase. The key has been (or will
          be) emailed to the buyer. If this is your purchase, <a href="/portal">sign in to your account</a> with the email you
          paid with to see it.
        </p>
      </>
    );
  }
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        Thank you for your purchase
      </h1>
      <p className={css.notice} role="status" aria-live="polite">
        <span className={css.spinner} aria-hidden="true" />
        {slow
          ? "Still processing: this is taking longer than usual. You can close this page; your license key will be emailed to you as soon as the payment is confirmed."
          : "Still processing your payment. This usually takes a few seconds; this page updates by itself."}
      </p>
      {failed && (
        <p className={`${css.notice} ${css.error}`} role="alert">
          We could not check on your purchase just now; trying again. Your key will also arrive by email.
        </p>
      )}
    </>
  );
}
