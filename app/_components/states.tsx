import type { ReactNode } from "react";
import { errorMessage } from "./format";
import css from "./ui.module.css";

/** While data loads. */
export function LoadingState({ label = "Loading…" }: { label?: string }) {
  return (
    <div className={css.loading} role="status" aria-live="polite">
      <span className={css.spinner} aria-hidden="true" />
      {label}
    </div>
  );
}

/** Nothing to show yet: say why, and what to do about it. */
export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className={css.state}>
      <p className={css.stateTitle}>{title}</p>
      {children && <p className={css.stateText}>{children}</p>}
      {action && <div className={css.stateAction}>{action}</div>}
    </div>
  );
}

/** An error in words (a tRPC error's message, or a plain sentence), with an optional retry. */
export function ErrorState({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  return (
    <div className={css.error} role="alert">
      {title && <strong>{title} </strong>}
      {errorMessage(error)}
      {onRetry && (
        <>
          {" "}
          <button type="button" onClick={onRetry} className={css.button + " " + css.small}>
            Try again
          </button>
        </>
      )}
    </div>
  );
}

/** A highlighted message: "notice" (amber), "success" (green) or "error" (red). */
export function Notice({ tone = "notice", children }: { tone?: "notice" | "success" | "error"; children: ReactNode }) {
  const cls = tone === "success" ? css.success : tone === "error" ? css.error : css.notice;
  return (
    <div className={cls} role={tone === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}
