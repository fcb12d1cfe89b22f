"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Button, Card, ConfirmDialog, Field, errorMessage, inputClass, mutedClass } from "@/app/_components";
import { ActivationFileForm } from "@/app/_components/activation-file-form";
import { useTRPC } from "@/app/_trpc/client";
import type { LicenseDetail } from "../_parts/types";
import { MutationError, partsCss as css } from "../_parts/ui";

type Dialog = "suspend" | "reinstate" | "revoke" | "reset" | "rotate" | "resend";
type Form = "extend" | "seats" | "plan" | "file";

/**
 * Everything an admin can do to a license. Destructive actions (suspend, revoke, reset, rotate) ask first;
 * suspend and revoke take a reason the customer sees. Each calls one tRPC mutation, which runs the same
 * domain function as the management API and writes the audit row.
 */
export function LicenseActions({ detail, onRotated }: { detail: LicenseDetail; onRotated: (key: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const l = detail.license;
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [reason, setReason] = useState("");
  const [done, setDone] = useState<string | null>(null);

  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.licenses.pathKey() });
  const finished = (message: string) => async () => {
    setDialog(null);
    setForm(null);
    setReason("");
    setDone(message);
    await refresh();
  };

  const suspend = useMutation(trpc.licenses.suspend.mutationOptions({ onSuccess: finished("Suspended.") }));
  const reinstate = useMutation(trpc.licenses.reinstate.mutationOptions({ onSuccess: finished("Reinstated.") }));
  const revoke = useMutation(trpc.licenses.revoke.mutationOptions({ onSuccess: finished("Revoked.") }));
  const reset = useMutation(trpc.licenses.resetActivations.mutationOptions({ onSuccess: finished("Every device was deactivated.") }));
  const resend = useMutation(
    trpc.licenses.resendEmail.mutationOptions({ onSuccess: (r) => finished(`The license email is on its way to ${r.to}.`)() }),
  );
  const rotate = useMutation(
    trpc.licenses.rotateKey.mutationOptions({
      onSuccess: async (r) => {
        onRotated(r.key);
        await finished("The key was replaced.")();
      },
    }),
  );

  const revoked = l.status === "revoked";
  const pending = { suspend, reinstate, revoke, reset, rotate, resend } as const;
  const current = dialog ? pending[dialog] : null;

  const open = (d: Dialog) => {
    setDone(null);
    setForm(null);
    setReason("");
    pending[d].reset();
    setDialog(d);
  };
  const openForm = (f: Form) => {
    setDone(null);
    setForm(form === f ? null : f);
  };

  return (
    <Card title="Actions">
      {revoked ? (
        <p className={mutedClass}>A revoked license is final: nothing more can be done to it. Issue a new license instead.</p>
      ) : (
        <div className={css.actionsGrid}>
          {l.status === "suspended" ? (
            <Button onClick={() => open("reinstate")}>Reinstate</Button>
          ) : (
            <Button onClick={() => open("suspend")}>Suspend</Button>
          )}
          <Button variant="danger" onClick={() => open("revoke")}>
            Revoke
          </Button>
          <Button onClick={() => openForm("extend")} aria-expanded={form === "extend"}>
            Change expiry
          </Button>
          <Button onClick={() => openForm("seats")} aria-expanded={form === "seats"}>
            Change seats
          </Button>
          <Button onClick={() => openForm("plan")} aria-expanded={form === "plan"}>
            Change plan
          </Button>
          <Button onClick={() => open("reset")} disabled={detail.activations.length === 0}>
            Reset devices
          </Button>
          <Button onClick={() => openForm("file")} aria-expanded={form === "file"}>
            Activation file
          </Button>
          <Button onClick={() => open("rotate")}>Rotate key</Button>
          <Button onClick={() => open("resend")}>Resend email</Button>
        </div>
      )}
      {done && (
        <p role="status" className={css.small} style={{ margin: "0.75rem 0 0" }}>
          ✓ {done}
        </p>
      )}
      {form === "extend" && <ExtendForm detail={detail} onDone={finished("The expiry was changed.")} />}
      {form === "seats" && <SeatsForm detail={detail} onDone={finished("The seats were changed.")} />}
      {form === "plan" && <PlanForm detail={detail} onDone={finished("The plan was changed.")} />}
      {form === "file" && <FileForm detail={detail} onDone={refresh} />}

      <ConfirmDialog
        open={dialog !== null}
        title={DIALOGS[dialog ?? "suspend"].title}
        confirmLabel={DIALOGS[dialog ?? "suspend"].confirm}
        danger={DIALOGS[dialog ?? "suspend"].danger}
        busy={current?.isPending}
        error={current?.error ? errorMessage(current.error) : undefined}
        onCancel={() => setDialog(null)}
        onConfirm={() => {
          const withReason = { id: l.id, reason: reason.trim() || undefined };
          if (dialog === "suspend") suspend.mutate(withReason);
          if (dialog === "revoke") revoke.mutate(withReason);
          if (dialog === "reinstate") reinstate.mutate({ id: l.id });
          if (dialog === "reset") reset.mutate({ id: l.id });
          if (dialog === "rotate") rotate.mutate({ id: l.id });
          if (dialog === "resend") resend.mutate({ id: l.id });
        }}
      >
        {dialog && DIALOGS[dialog].body(detail)}
        {(dialog === "suspend" || dialog === "revoke") && (
          <Field label="Reason the customer sees (optional)" htmlFor="status-reason">
            <textarea
              id="status-reason"
              className={inputClass}
              rows={2}
              maxLength={500}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              placeholder={dialog === "revoke" ? "The payment was refunded." : "Payment is under review."}
            />
          </Field>
        )}
      </ConfirmDialog>
    </Card>
  );
}

const DIALOGS: Record<Dialog, { title: string; confirm: string; danger: boolean; body: (d: LicenseDetail) => ReactNode }> = {
  suspend: {
    title: "Suspend this license?",
    confirm: "Suspend",
    danger: true,
    body: () => <p>It stops validating at once, on every device, until you reinstate it.</p>,
  },
  reinstate: {
    title: "Reinstate this license?",
    confirm: "Reinstate",
    danger: false,
    body: () => <p>It works again at once (or shows as expired, if its expiry and grace days have passed).</p>,
  },
  revoke: {
    title: "Revoke this license for good?",
    confirm: "Revoke",
    danger: true,
    body: () => <p>The key stops working at once, on every device. This cannot be undone.</p>,
  },
  reset: {
    title: "Deactivate every device?",
    confirm: "Reset devices",
    danger: true,
    body: (d) => (
      <p>
        All {d.activations.length} devices lose their seat now. Each can activate again while seats are free.
      </p>
    ),
  },
  rotate: {
    title: "Replace the key?",
    confirm: "Rotate key",
    danger: true,
    body: () => (
      <p>
        The current key stops working at once. A new key is shown to you once and emailed to the customer; their devices
        keep their seats once the new key is entered.
      </p>
    ),
  },
  resend: {
    title: "Send the license email again?",
    confirm: "Send",
    danger: false,
    body: (d) => <p>The customer ({d.customer.email}) gets the license email with the current key.</p>,
  },
};

/** A seat for a machine that never goes online; the file downloads at once (the list of devices then shows it). */
function FileForm({ detail, onDone }: { detail: LicenseDetail; onDone: () => void }) {
  const trpc = useTRPC();
  const make = useMutation(trpc.licenses.activationFile.mutationOptions({ onSuccess: onDone }));
  return (
    <div className={css.inlineForm}>
      <ActivationFileForm
        idPrefix="admin-file"
        create={{
          mutate: (input, opts) => make.mutate({ id: detail.license.id, ...input }, opts),
          isPending: make.isPending,
          error: make.error,
        }}
      />
    </div>
  );
}

function ExtendForm({ detail, onDone }: { detail: LicenseDetail; onDone: () => void }) {
  const trpc = useTRPC();
  const current = detail.license.expiresAt?.slice(0, 10) ?? "";
  const [date, setDate] = useState(current);
  const [never, setNever] = useState(detail.license.expiresAt === null);
  const extend = useMutation(trpc.licenses.extend.mutationOptions({ onSuccess: onDone }));
  return (
    <form
      className={css.inlineForm}
      onSubmit={(e) => {
        e.preventDefault();
        extend.mutate({ id: detail.license.id, expiresAt: never ? null : new Date(`${date}T23:59:59Z`).toISOString() });
      }}
    >
      <label className={css.checkbox}>
        <input type="checkbox" checked={never} onChange={(e) => setNever(e.target.checked)} /> Never expires (perpetual)
      </label>
      {!never && (
        <Field label="Expires at the end of (UTC)" htmlFor="extend-date">
          <input id="extend-date" type="date" className={inputClass} value={date} onChange={(e) => setDate(e.target.value)} required />
        </Field>
      )}
      <MutationError error={extend.error} />
      <div className={css.row}>
        <Button type="submit" variant="primary" loading={extend.isPending}>
          Save expiry
        </Button>
      </div>
    </form>
  );
}

function SeatsForm({ detail, onDone }: { detail: LicenseDetail; onDone: () => void }) {
  const trpc = useTRPC();
  const [seats, setSeats] = useState(String(detail.license.maxActivations));
  const change = useMutation(trpc.licenses.changeSeats.mutationOptions({ onSuccess: onDone }));
  return (
    <form
      className={css.inlineForm}
      onSubmit={(e) => {
        e.preventDefault();
        change.mutate({ id: detail.license.id, seats: Number(seats) });
      }}
    >
      <Field label="Seats (devices at once)" htmlFor="seats" hint={seatsHint(detail.activations.length, Number(seats))}>
        <input id="seats" type="number" min={1} className={inputClass} value={seats} onChange={(e) => setSeats(e.target.value)} required />
      </Field>
      <MutationError error={change.error} />
      <div className={css.row}>
        <Button type="submit" variant="primary" loading={change.isPending}>
          Save seats
        </Button>
      </div>
    </form>
  );
}

function PlanForm({ detail, onDone }: { detail: LicenseDetail; onDone: () => void }) {
  const trpc = useTRPC();
  const catalog = useQuery(trpc.catalog.list.queryOptions());
  const [plan, setPlan] = useState("");
  const [useplanSeats, setUsePlanSeats] = useState(false);
  const change = useMutation(trpc.licenses.changePlan.mutationOptions({ onSuccess: onDone }));
  const choices = (catalog.data?.plans ?? []).filter((p) => p.product === detail.product.slug && p.slug !== detail.plan.slug && !p.archivedAt);
  const chosen = choices.find((p) => p.slug === plan);
  if (catalog.isPending) return <p className={css.small}>Loading plans…</p>;
  if (choices.length === 0) {
    return <p className={`${css.small} ${mutedClass}`}>{detail.product.name} has no other active plan to move to.</p>;
  }
  return (
    <form
      className={css.inlineForm}
      onSubmit={(e) => {
        e.preventDefault();
        change.mutate({ id: detail.license.id, plan, seats: useplanSeats && chosen ? chosen.seats : undefined });
      }}
    >
      <Field label="New plan" htmlFor="new-plan" hint="Entitlements, grace days and token lifetime follow the plan; the expiry stays.">
        <select id="new-plan" className={inputClass} value={plan} onChange={(e) => setPlan(e.target.value)} required>
          <option value="">Choose a plan…</option>
          {choices.map((p) => (
            <option key={p.id} value={p.slug}>
              {p.name} ({p.seats} seats)
            </option>
          ))}
        </select>
      </Field>
      <label className={css.checkbox}>
        <input type="checkbox" checked={useplanSeats} onChange={(e) => setUsePlanSeats(e.target.checked)} />
        Use the new plan&apos;s seats{chosen ? ` (${chosen.seats})` : ""} instead of keeping {detail.license.maxActivations}
      </label>
      <MutationError error={change.error} />
      <div className={css.row}>
        <Button type="submit" variant="primary" loading={change.isPending}>
          Change plan
        </Button>
      </div>
    </form>
  );
}

/** The seat rule (server/domain/licensing/seats.ts), said before the admin applies it. */
function seatsHint(inUse: number, seats: number): string {
  const now = `${inUse} in use now.`;
  if (!Number.isInteger(seats) || seats < 1 || seats >= inUse) return now;
  const freed = inUse - seats;
  return `${now} Saving ${seats} frees the ${freed === 1 ? "device" : `${freed} devices`} seen least recently.`;
}
