"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import {
  Button,
  ConfirmDialog,
  ErrorState,
  Field,
  Notice,
  errorMessage,
  formatDateTime,
  inputClass,
  plural,
} from "@/app/_components";
import type { PortalLicense } from "@/server/domain/licensing/portal";
import own from "./device-reset.module.css";
import css from "./portal.module.css";

/**
 * "Reset all devices" for one license: outside the plan's cooldown the customer resets every device at once;
 * inside it the card says when the next reset is allowed and offers to ask the operator for a manual reset.
 */
export function DeviceReset({ license: l }: { license: PortalLicense }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.portal.licenses.queryKey() });
  const [confirming, setConfirming] = useState(false);
  const [asking, setAsking] = useState(false);
  const [message, setMessage] = useState("");
  const reset = useMutation(
    trpc.portal.resetDevices.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await refresh();
      },
    }),
  );
  const request = useMutation(
    trpc.portal.requestManualReset.mutationOptions({
      onSuccess: async () => {
        setAsking(false);
        await refresh();
      },
    }),
  );

  if (l.status === "revoked") return null;
  const { cooldownDays, nextAllowedAt, requestedAt } = l.reset;
  const every = cooldownDays > 0 ? `once every ${plural(cooldownDays, "day")}` : "whenever you need to";
  const id = `reset-${l.id}`;

  return (
    <section className={own.reset} aria-labelledby={`${id}-title`}>
      <h3 className={css.subTitle} id={`${id}-title`}>
        Reset all devices
      </h3>
      {reset.isSuccess && (
        <Notice tone="success">
          {`${reset.data.removed === 0 ? "No device was activated" : `${plural(reset.data.removed, "device")} deactivated`}. The next reset is allowed on ${formatDateTime(reset.data.nextAllowedAt)}.`}
        </Notice>
      )}
      {!nextAllowedAt ? (
        <>
          <p
            className={css.deviceMeta}
          >{`Deactivates every device at once, so you can activate on new ones. You can do this ${every}.`}</p>
          <div className={css.actions}>
            <Button size="small" onClick={() => setConfirming(true)}>
              Reset all devices
            </Button>
          </div>
        </>
      ) : (
        <>
          <p className={css.deviceMeta} data-testid="next-reset">
            {`You reset this license's devices on ${formatDateTime(l.reset.lastResetAt)}. Resets are allowed ${every}: the next one is allowed on ${formatDateTime(nextAllowedAt)}.`}
          </p>
          {requestedAt ? (
            <Notice>{`You asked for a manual reset on ${formatDateTime(requestedAt)}. We will email you once it is done.`}</Notice>
          ) : request.isSuccess ? (
            <Notice tone="success">Your request was sent. We will email you once it is done.</Notice>
          ) : asking ? (
            <form
              className={own.form}
              onSubmit={(e) => {
                e.preventDefault();
                request.mutate({ licenseId: l.id, message: message.trim() || undefined });
              }}
            >
              <Field label="Why do you need a reset now? (optional)" htmlFor={`${id}-message`}>
                <textarea
                  id={`${id}-message`}
                  className={inputClass}
                  rows={3}
                  maxLength={500}
                  value={message}
                  onChange={(e) => setMessage(e.target.value)}
                />
              </Field>
              <div className={css.actions}>
                <Button size="small" type="submit" variant="primary" loading={request.isPending}>
                  Send request
                </Button>
                <Button size="small" variant="ghost" type="button" onClick={() => setAsking(false)}>
                  Cancel
                </Button>
              </div>
            </form>
          ) : (
            <div className={css.actions}>
              <Button size="small" onClick={() => setAsking(true)}>
                Ask for a manual reset
              </Button>
            </div>
          )}
          {request.isError && <ErrorState title="Could not send the request." error={request.error} />}
        </>
      )}
      <ConfirmDialog
        open={confirming}
        title="Reset all devices?"
        confirmLabel="Reset all devices"
        danger
        busy={reset.isPending}
        error={reset.isError ? errorMessage(reset.error) : undefined}
        onConfirm={() => reset.mutate({ licenseId: l.id })}
        onCancel={() => {
          setConfirming(false);
          reset.reset();
        }}
      >
        {`Every device (${l.activations.length} now) stops working with this license until you activate it again. You can reset ${every}.`}
      </ConfirmDialog>
    </section>
  );
}
