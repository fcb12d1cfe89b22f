"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { Button, ConfirmDialog, Notice, errorMessage } from "@/app/_components";

/**
 * "Replace this key": for a key that leaked. Nothing changes here; we email the license's address a link, and
 * the key is replaced when it is clicked (so a borrowed session cannot take a key over).
 */
export function KeyRotation({ licenseId, keyHint }: { licenseId: string; keyHint: string }) {
  const trpc = useTRPC();
  const [confirming, setConfirming] = useState(false);
  const request = useMutation(trpc.portal.requestKeyRotation.mutationOptions({ onSuccess: () => setConfirming(false) }));
  return (
    <>
      <Button size="small" onClick={() => setConfirming(true)}>
        Replace this key
      </Button>
      <ConfirmDialog
        open={confirming}
        title="Replace this license key?"
        confirmLabel="Email me the link"
        busy={request.isPending}
        error={request.isError ? errorMessage(request.error) : undefined}
        onConfirm={() => request.mutate({ licenseId })}
        onCancel={() => {
          setConfirming(false);
          request.reset();
        }}
      >
        {`Do this if someone else may have your key (${keyHint}). We email you a link; when you click it, this key stops working at once and you get a new one. Your subscription, seats and devices stay; enter the new key on each device.`}
      </ConfirmDialog>
      {request.isSuccess && (
        <div style={{ flexBasis: "100%" }}>
          <Notice tone="success">{`We sent a confirmation link to ${request.data.sentTo}. The key is replaced when you click it.`}</Notice>
        </div>
      )}
    </>
  );
}
