"use client";

import { useState } from "react";
import { Button } from "./button";
import { Field, inputClass } from "./layout-bits";
import { ErrorState, Notice } from "./states";

/** What an activation-file mutation answers (admin and portal alike). */
type Made = { file: string; fileName: string; expiresAt: string };

/** Saves text as a file in the browser (no server round trip: the text is already here). */
function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/**
 * Asks for the fingerprint of a machine that never goes online and downloads its activation file; the admin
 * app and the portal each pass their own tRPC mutation.
 */
export function ActivationFileForm({
  idPrefix,
  create,
}: {
  idPrefix: string;
  create: {
    mutate: (input: { fingerprint: string; name?: string }, opts: { onSuccess: (made: Made) => void }) => void;
    isPending: boolean;
    error: unknown;
  };
}) {
  const [fingerprint, setFingerprint] = useState("");
  const [name, setName] = useState("");
  const [made, setMade] = useState<Made | null>(null);
  return (
    <form
      aria-label="Activation file"
      onSubmit={(e) => {
        e.preventDefault();
        setMade(null);
        create.mutate(
          { fingerprint: fingerprint.trim(), name: name.trim() || undefined },
          {
            onSuccess: (r) => {
              setMade(r);
              download(r.fileName, r.file);
            },
          },
        );
      }}
    >
      <Field
        label="Machine fingerprint"
        htmlFor={`${idPrefix}-fingerprint`}
        hint="The value the offline machine shows (machineFingerprint() in the SDK). The file takes one seat."
      >
        <input
          id={`${idPrefix}-fingerprint`}
          className={inputClass}
          value={fingerprint}
          onChange={(e) => setFingerprint(e.target.value)}
          maxLength={256}
          spellCheck={false}
          required
        />
      </Field>
      <Field label="Device name (optional)" htmlFor={`${idPrefix}-name`}>
        <input
          id={`${idPrefix}-name`}
          className={inputClass}
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={200}
        />
      </Field>
      <Button type="submit" variant="primary" loading={create.isPending}>
        Download activation file
      </Button>
      {made && (
        <Notice tone="success">
          {`Saved ${made.fileName}: it works on that machine until ${new Date(made.expiresAt).toUTCString()}.`}
        </Notice>
      )}
      {Boolean(create.error) && <ErrorState title="Could not make the activation file." error={create.error} />}
    </form>
  );
}
