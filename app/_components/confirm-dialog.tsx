"use client";

import { useEffect, useRef, type ReactNode } from "react";
import { Button } from "./button";
import css from "./ui.module.css";

/**
 * Asks before a destructive action. Controlled: render it with `open`, and it calls onConfirm or onCancel.
 * Uses the native <dialog> (focus trap, Escape to cancel) with no UI framework.
 *
 *   <ConfirmDialog open={open} title="Revoke this license?" confirmLabel="Revoke" danger
 *     busy={mutation.isPending} onConfirm={() => mutation.mutate(…)} onCancel={() => setOpen(false)}>
 *     The key stops working at once. This cannot be undone.
 *   </ConfirmDialog>
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel = "Confirm",
  cancelLabel = "Cancel",
  danger = false,
  busy = false,
  error,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel?: string;
  cancelLabel?: string;
  danger?: boolean;
  busy?: boolean;
  /** Shown inside the dialog when the action failed, so the person sees why without losing context. */
  error?: ReactNode;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      className={css.dialog}
      aria-labelledby="confirm-dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <h2 id="confirm-dialog-title" className={css.dialogTitle}>
        {title}
      </h2>
      {children && <div className={css.dialogBody}>{children}</div>}
      {error && (
        <div className={css.error} role="alert" style={{ marginBottom: "1rem" }}>
          {error}
        </div>
      )}
      <div className={css.dialogActions}>
        <Button onClick={onCancel} disabled={busy}>
          {cancelLabel}
        </Button>
        <Button variant={danger ? "danger" : "primary"} onClick={onConfirm} loading={busy}>
          {confirmLabel}
        </Button>
      </div>
    </dialog>
  );
}
