"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  Field,
  Ident,
  LoadingState,
  Notice,
  PageHeader,
  Table,
  formatDateTime,
  inputClass,
  mutedClass,
} from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { RouterOutputs } from "../licenses/_parts/types";
import { MutationError, partsCss } from "../licenses/_parts/ui";
import css from "./releases.module.css";

type Release = RouterOutputs["releases"]["list"][number];

export function formatBytes(n: number | null): string {
  if (n === null) return "—";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Releases per product: upload a build (or point at a URL), see its sha256, yank or delete it. */
export function Releases() {
  const trpc = useTRPC();
  const catalog = useQuery(trpc.catalog.list.queryOptions());
  const [chosen, setChosen] = useState<string | null>(null);
  const products = catalog.data?.products ?? [];
  const product = chosen ?? products.find((p) => !p.archivedAt)?.slug ?? products[0]?.slug ?? null;

  return (
    <>
      <PageHeader
        title="Releases"
        description="Builds your customers may download: from the portal, the checkout success page, and your updater (POST /api/v1/releases/latest), always through a short-lived signed link."
      />
      {catalog.isPending ? (
        <LoadingState label="Loading products…" />
      ) : catalog.isError ? (
        <ErrorState title="Could not load products." error={catalog.error} onRetry={() => void catalog.refetch()} />
      ) : products.length === 0 ? (
        <EmptyState title="No products yet.">Create a product under Products & plans first; releases belong to a product.</EmptyState>
      ) : (
        <>
          <div className={css.pick}>
            <Field label="Product" htmlFor="release-product">
              <select id="release-product" className={inputClass} value={product ?? ""} onChange={(e) => setChosen(e.target.value)}>
                {products.map((p) => (
                  <option key={p.id} value={p.slug}>
                    {p.name} ({p.slug})
                  </option>
                ))}
              </select>
            </Field>
          </div>
          {product && <ProductReleases key={product} product={product} />}
        </>
      )}
    </>
  );
}

function ProductReleases({ product }: { product: string }) {
  const trpc = useTRPC();
  const list = useQuery(trpc.releases.list.queryOptions({ product }));
  const [uploading, setUploading] = useState(false);
  return (
    <div className={partsCss.stack}>
      <div>
        <Button variant="primary" onClick={() => setUploading((v) => !v)} aria-expanded={uploading}>
          New release
        </Button>
      </div>
      {uploading && <UploadForm product={product} onDone={() => setUploading(false)} />}
      {list.isPending ? (
        <LoadingState label="Loading releases…" />
      ) : list.isError ? (
        <ErrorState title="Could not load releases." error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.length === 0 ? (
        <EmptyState title="No releases yet." action={!uploading && <Button onClick={() => setUploading(true)}>Upload the first release</Button>}>
          Upload a build (it is kept under DATA_DIR, its sha256 shown here) or give the URL where it is hosted.
        </EmptyState>
      ) : (
        <ReleaseTable releases={list.data} />
      )}
    </div>
  );
}

type Progress = { loaded: number; total: number } | null;

/** The upload: a plain multipart POST (XMLHttpRequest, for its upload progress) to the admin app's upload route. */
function UploadForm({ product, onDone }: { product: string; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [progress, setProgress] = useState<Progress>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<Release | null>(null);
  const [source, setSource] = useState<"file" | "url">("file");

  const submit = (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    const data = new FormData(e.currentTarget);
    data.set("product", product);
    data.delete("source");
    if (source === "file") data.delete("url");
    else data.delete("file");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/admin-app/releases");
    xhr.upload.onprogress = (ev) => setProgress({ loaded: ev.loaded, total: ev.lengthComputable ? ev.total : 0 });
    xhr.onerror = () => {
      setProgress(null);
      setError("The upload did not reach the server (network error). Try again.");
    };
    xhr.onload = async () => {
      setProgress(null);
      let body: any = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status === 201 && body?.release) {
        setDone(body.release);
        form.current?.reset();
        await queryClient.invalidateQueries({ queryKey: trpc.releases.pathKey() });
      } else {
        const details = Array.isArray(body?.error?.details)
          ? body.error.details.map((d: { path: string; message: string }) => `${d.path ? `${d.path}: ` : ""}${d.message}`).join("; ")
          : "";
        setError(`${body?.error?.message ?? `The upload failed (HTTP ${xhr.status}).`}${details ? ` ${details}` : ""}`);
      }
    };
    setProgress({ loaded: 0, total: 0 });
    xhr.send(data);
  };

  const busy = progress !== null;
  const pct = progress && progress.total ? Math.round((progress.loaded / progress.total) * 100) : null;
  return (
    <Card title={`New release of ${product}`}>
      <form ref={form} className={css.form} onSubmit={submit} aria-busy={busy}>
        <Field label="Version" htmlFor="release-version" hint="Semantic version: 1.4.0, 2.0.0-beta.1.">
          <input id="release-version" name="version" className={inputClass} required placeholder="1.0.0" autoComplete="off" />
        </Field>
        <Field label="Channel" htmlFor="release-channel">
          <select id="release-channel" name="channel" className={inputClass} defaultValue="stable">
            <option value="stable">stable</option>
            <option value="beta">beta</option>
          </select>
        </Field>
        <Field label="Platform" htmlFor="release-platform" hint="Empty: one build for every platform.">
          <input id="release-platform" name="platform" className={inputClass} placeholder="windows-x64" autoComplete="off" />
        </Field>
        <Field label="Entitlement needed" htmlFor="release-entitlement" hint="Empty: any license of the product.">
          <input id="release-entitlement" name="entitlement" className={inputClass} autoComplete="off" />
        </Field>
        <div className={css.wide}>
          <Field label="Notes" htmlFor="release-notes">
            <textarea id="release-notes" name="notes" className={inputClass} rows={3} />
          </Field>
        </div>
        <div className={css.wide}>
          <fieldset className={partsCss.row} style={{ border: 0, padding: 0, margin: "0 0 0.5rem" }}>
            <legend className={partsCss.small} style={{ marginBottom: "0.3rem" }}>
              The build
            </legend>
            <label className={partsCss.checkbox}>
              <input type="radio" name="source" checked={source === "file"} onChange={() => setSource("file")} /> Upload a file
            </label>
            <label className={partsCss.checkbox}>
              <input type="radio" name="source" checked={source === "url"} onChange={() => setSource("url")} /> Hosted elsewhere (URL)
            </label>
          </fieldset>
          {source === "file" ? (
            <Field label="File" htmlFor="release-file">
              <input id="release-file" name="file" type="file" className={inputClass} required />
            </Field>
          ) : (
            <Field label="URL" htmlFor="release-url" hint="The signed link redirects there after checking the license.">
              <input id="release-url" name="url" type="url" className={inputClass} required placeholder="https://downloads.example.com/app-1.0.0.zip" />
            </Field>
          )}
        </div>
        {busy && (
          <div className={css.wide} role="status">
            <progress className={css.progress} max={100} value={pct ?? undefined} aria-label="Upload progress" />
            <p className={`${partsCss.small} ${mutedClass}`}>
              {pct === null ? "Uploading…" : `Uploading… ${pct}% (${formatBytes(progress!.loaded)} of ${formatBytes(progress!.total)})`}
            </p>
          </div>
        )}
        {error && (
          <div className={css.wide}>
            <Notice tone="error">{error}</Notice>
          </div>
        )}
        {done && (
          <div className={css.wide}>
            <Notice tone="success">
              Release {done.version} saved.{done.sha256 && <> sha256 <span className={css.hash}>{done.sha256}</span></>}
            </Notice>
          </div>
        )}
        <div className={`${css.wide} ${partsCss.row}`}>
          <Button type="submit" variant="primary" loading={busy}>
            Save release
          </Button>
          <Button onClick={onDone} disabled={busy}>
            Close
          </Button>
        </div>
      </form>
    </Card>
  );
}

function ReleaseTable({ releases }: { releases: Release[] }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirm, setConfirm] = useState<{ kind: "yank" | "delete"; release: Release } | null>(null);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.releases.pathKey() });
  const yank = useMutation(trpc.releases.setYanked.mutationOptions({ onSuccess: async () => (setConfirm(null), await invalidate()) }));
  const remove = useMutation(trpc.releases.delete.mutationOptions({ onSuccess: async () => (setConfirm(null), await invalidate()) }));

  return (
    <>
      <Table label="Releases" cardsOnPhone>
        <thead>
          <tr>
            <th>Version</th>
            <th>Channel</th>
            <th>Platform</th>
            <th>Needs</th>
            <th>File</th>
            <th>sha256</th>
            <th>Uploaded</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {releases.map((r) => (
            <tr key={r.id}>
              <td data-label="Version">
                <strong>{r.version}</strong> {r.yankedAt && <Badge tone="red">yanked</Badge>}
                {r.notes && <p className={css.notes}>{r.notes}</p>}
              </td>
              <td data-label="Channel">
                <Badge tone={r.channel === "beta" ? "amber" : "neutral"}>{r.channel}</Badge>
              </td>
              <td data-label="Platform">{r.platform ?? <span className={mutedClass}>every platform</span>}</td>
              <td data-label="Needs">{r.entitlement ? <Ident>{r.entitlement}</Ident> : <span className={mutedClass}>—</span>}</td>
              <td data-label="File">
                {r.externalUrl ? (
                  <span className={css.hash}>{r.externalUrl}</span>
                ) : (
                  <>
                    {r.fileName} <span className={mutedClass}>({formatBytes(r.size)})</span>
                  </>
                )}
              </td>
              <td data-label="sha256">
                {r.sha256 ? <span className={css.hash}>{r.sha256}</span> : <span className={mutedClass}>hosted elsewhere</span>}
              </td>
              <td data-label="Uploaded">{formatDateTime(r.createdAt)}</td>
              <td>
                <div className={partsCss.row}>
                  <Button size="small" onClick={() => (r.yankedAt ? yank.mutate({ releaseId: r.id, yanked: false }) : setConfirm({ kind: "yank", release: r }))}>
                    {r.yankedAt ? "Restore" : "Yank"}
                  </Button>
                  <Button size="small" variant="danger" onClick={() => setConfirm({ kind: "delete", release: r })}>
                    Delete
                  </Button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <MutationError error={confirm ? null : yank.error} />
      <ConfirmDialog
        open={confirm !== null}
        title={confirm?.kind === "delete" ? `Delete ${confirm.release.version}?` : `Yank ${confirm?.release.version ?? ""}?`}
        confirmLabel={confirm?.kind === "delete" ? "Delete" : "Yank"}
        danger
        busy={yank.isPending || remove.isPending}
        error={(confirm?.kind === "delete" ? remove.error : yank.error) && <MutationError error={confirm?.kind === "delete" ? remove.error : yank.error} />}
        onConfirm={() => {
          if (!confirm) return;
          if (confirm.kind === "delete") remove.mutate({ releaseId: confirm.release.id });
          else yank.mutate({ releaseId: confirm.release.id, yanked: true });
        }}
        onCancel={() => setConfirm(null)}
      >
        {confirm?.kind === "delete"
          ? "The release and its file are removed for good; links already handed out stop working."
          : "Nobody is offered it any more and its links stop working. You can restore it later."}
      </ConfirmDialog>
    </>
  );
}
