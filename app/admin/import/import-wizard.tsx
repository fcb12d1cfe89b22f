"use client";

import { useEffect, useState } from "react";
import { Button, Card, ErrorState, Field, Notice, Table, inputClass, monoClass, mutedClass } from "@/app/_components";
import css from "./import.module.css";

/**
 * Upload -> dry run (counts, every refused row and why, each foreign product with a plan to confirm) -> import
 * as a worker job with a progress bar. Talks to /api/admin/import (the same domain function as the management
 * API's POST /api/v1/admin/import); the file goes up as the request body, exactly as the platform made it.
 */

const FORMATS = [
  { value: "lemonsqueezy", label: "Lemon Squeezy (license keys: API JSON or CSV export)" },
  { value: "keygen", label: "Keygen (licenses API JSON, with owner and policy)" },
  { value: "gumroad", label: "Gumroad (sales CSV export)" },
  { value: "polar", label: "Polar (license keys API JSON)" },
  { value: "keystead", label: "Keystead export (into this empty instance)" },
] as const;

type Refusal = { row: number; reason: string };
type Preview = {
  dryRun: boolean;
  counts: Record<string, number>;
  refused: Refusal[];
  products?: { ref: string; name: string; rows: number; plan: string | null; mappedBy: string | null }[];
  plans?: { slug: string; name: string; product: string; seats: number }[];
  importId?: string;
};
type Job = {
  id: string;
  status: "queued" | "running" | "done" | "failed";
  total: number;
  processed: number;
  counts: Record<string, number>;
  refused: Refusal[];
  error: string | null;
};

const COUNT_LABELS: Record<string, string> = {
  rows: "Rows in the file",
  licenses: "Licenses to import",
  activations: "Activations",
  newCustomers: "New customers",
  refused: "Refused rows",
  overSeats: "Over their seats",
};

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.error?.message ?? `The server answered ${res.status}.`);
  return body as T;
}

function Counts({ counts }: { counts: Record<string, number> }) {
  return (
    <dl className={css.counts}>
      {Object.entries(counts).map(([k, v]) => (
        <div key={k}>
          <dt>{COUNT_LABELS[k] ?? k}</dt>
          <dd data-count={k}>{v.toLocaleString()}</dd>
        </div>
      ))}
    </dl>
  );
}

function RefusedRows({ refused }: { refused: Refusal[] }) {
  if (refused.length === 0) return <p className={mutedClass}>No row is refused.</p>;
  return (
    <Table label="Refused rows" cardsOnPhone>
      <thead>
        <tr>
          <th scope="col">Row</th>
          <th scope="col">Why it is refused</th>
        </tr>
      </thead>
      <tbody>
        {refused.map((r, i) => (
          <tr key={`${r.row}-${i}`}>
            <td data-label="Row">{r.row}</td>
            <td data-label="Why">{r.reason}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

export function ImportWizard() {
  const [format, setFormat] = useState<string>("lemonsqueezy");
  const [file, setFile] = useState<File | null>(null);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [preview, setPreview] = useState<Preview | null>(null);
  const [job, setJob] = useState<Job | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const query = (extra: Record<string, string>) => {
    const q = new URLSearchParams({ format, ...extra });
    if (Object.keys(mapping).length) q.set("mapping", JSON.stringify(mapping));
    return `/api/admin/import?${q}`;
  };

  async function dryRun() {
    if (!file) return;
    setBusy(true);
    setError(null);
    setJob(null);
    try {
      const p = await call<Preview>(query({ dryRun: "1" }), { method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" } });
      setPreview(p);
      // Start the confirm step from what the dry run chose (saved mappings included).
      setMapping((m) => ({ ...Object.fromEntries((p.products ?? []).filter((x) => x.plan).map((x) => [x.ref, x.plan!])), ...m }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function runImport() {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const started = await call<Preview>(query({ async: "1" }), { method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" } });
      setJob({ id: started.importId!, status: "queued", total: started.counts.rows ?? 0, processed: 0, counts: {}, refused: [], error: null });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  // Poll the job until it is done or failed.
  useEffect(() => {
    if (!job || job.status === "done" || job.status === "failed") return;
    const t = setTimeout(async () => {
      try {
        const { import: next } = await call<{ import: Job }>(`/api/admin/import/${job.id}`);
        setJob(next);
        if (next.status === "done" || next.status === "failed") setBusy(false);
      } catch (err) {
        setError(err);
        setBusy(false);
      }
    }, 500);
    return () => clearTimeout(t);
  }, [job]);

  const unmapped = (preview?.products ?? []).filter((p) => !mapping[p.ref]);
  const percent = job && job.total > 0 ? Math.round((job.processed / job.total) * 100) : job?.status === "done" ? 100 : 0;

  return (
    <div className={css.steps}>
      <Card title="1. Choose the file">
        <div className={css.row}>
          <Field label="Where it comes from" htmlFor="import-format">
            <select
              id="import-format"
              className={`${inputClass} ${css.select}`}
              value={format}
              onChange={(e) => {
                setFormat(e.target.value);
                setPreview(null);
                setMapping({});
                setJob(null);
              }}
            >
              {FORMATS.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </select>
          </Field>
          <Field label="File" htmlFor="import-file" hint="JSON or CSV, exactly as the platform exported it.">
            <input
              id="import-file"
              className={inputClass}
              type="file"
              accept=".json,.csv,application/json,text/csv"
              onChange={(e) => {
                setFile(e.target.files?.[0] ?? null);
                setPreview(null);
                setJob(null);
              }}
            />
          </Field>
          <Button onClick={dryRun} disabled={!file || busy} loading={busy && !job}>
            Dry run
          </Button>
        </div>
        <p className={mutedClass}>A dry run reads the file and says what the import would do. It writes nothing.</p>
      </Card>

      {error !== null && <ErrorState error={error} title="The import could not go on." />}

      {preview && (
        <Card title="2. Check the dry run">
          <Counts counts={preview.counts} />
          <h3>Refused rows</h3>
          <RefusedRows refused={preview.refused} />
        </Card>
      )}

      {preview && preview.products && (
        <Card title="3. Confirm the plans">
          {preview.products.length === 0 ? (
            <p className={mutedClass}>The file names no product.</p>
          ) : (
            <Table label="Products and their plans" cardsOnPhone>
              <thead>
                <tr>
                  <th scope="col">Their product or variant</th>
                  <th scope="col">Rows</th>
                  <th scope="col">Keystead plan</th>
                </tr>
              </thead>
              <tbody>
                {preview.products.map((p) => (
                  <tr key={p.ref}>
                    <td data-label="Product">
                      {p.name} <span className={`${monoClass} ${mutedClass}`}>{p.ref}</span>
                    </td>
                    <td data-label="Rows">{p.rows}</td>
                    <td data-label="Plan">
                      <select
                        aria-label={`Plan for ${p.name}`}
                        className={`${inputClass} ${css.select}`}
                        value={mapping[p.ref] ?? ""}
                        onChange={(e) => setMapping((m) => ({ ...m, [p.ref]: e.target.value }))}
                      >
                        <option value="">Choose a plan…</option>
                        {(preview.plans ?? []).map((plan) => (
                          <option key={plan.slug} value={plan.slug}>
                            {plan.product} / {plan.name} ({plan.seats} seats)
                          </option>
                        ))}
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
          )}
          {(preview.plans ?? []).length === 0 && <Notice>There is no plan yet: create one under Products &amp; plans first.</Notice>}
          <div className={css.row} style={{ marginTop: "0.75rem" }}>
            <Button onClick={dryRun} disabled={busy}>
              Dry run again with these plans
            </Button>
          </div>
        </Card>
      )}

      {preview && (
        <Card title={preview.products ? "4. Import" : "3. Import"}>
          {unmapped.length > 0 && (
            <Notice>
              {unmapped.length} product(s) have no plan: their rows will be refused. Choose a plan above, or import the rest now.
            </Notice>
          )}
          <Button variant="primary" onClick={runImport} disabled={busy || !!job || (preview.products !== undefined && !preview.counts.licenses)}>
            Import {(preview.counts.licenses ?? preview.counts.rows ?? 0).toLocaleString()} license(s)
          </Button>
          {job && (
            <div role="status" aria-live="polite" style={{ marginTop: "0.75rem" }}>
              <label htmlFor="import-progress">
                {job.status === "done" ? "Imported" : job.status === "failed" ? "Stopped" : "Importing…"} {job.processed.toLocaleString()} of{" "}
                {job.total.toLocaleString()} rows ({percent}%)
              </label>
              <progress id="import-progress" className={css.progress} max={100} value={percent} />
              {job.status === "done" && (
                <>
                  <Notice tone="success">The import is done.</Notice>
                  <Counts counts={job.counts} />
                  <h3>Refused rows</h3>
                  <RefusedRows refused={job.refused} />
                </>
              )}
              {job.status === "failed" && <Notice tone="error">{job.error ?? "The import failed."}</Notice>}
            </div>
          )}
        </Card>
      )}
    </div>
  );
}
