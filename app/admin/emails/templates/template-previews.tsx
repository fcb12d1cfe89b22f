"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Card, ErrorState, Field, LoadingState, PageHeader, inputClass } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { RouterInputs } from "../../licenses/_parts/types";
import { partsCss as css } from "../../licenses/_parts/ui";

type Template = RouterInputs["emails"]["preview"]["template"];

/** Each email template rendered with its sample props, exactly as the sender renders it. */
export function TemplatePreviews() {
  const trpc = useTRPC();
  const templates = useQuery(trpc.emails.templates.queryOptions());
  const [chosen, setChosen] = useState<Template | "">("");
  const template = (chosen || templates.data?.[0]) as Template | undefined;
  const preview = useQuery({ ...trpc.emails.preview.queryOptions({ template: template! }), enabled: Boolean(template) });

  return (
    <>
      <PageHeader title="Email templates" description={<Link href="/admin/emails">← Back to the outbox</Link>} />
      {templates.isPending ? (
        <LoadingState label="Loading templates…" />
      ) : templates.isError ? (
        <ErrorState error={templates.error} onRetry={() => void templates.refetch()} />
      ) : (
        <>
          <div className={css.filters}>
            <Field label="Template" htmlFor="preview-template">
              <select id="preview-template" className={inputClass} value={template} onChange={(e) => setChosen(e.target.value as Template)}>
                {templates.data.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          {preview.isPending ? (
            <LoadingState label="Rendering…" />
          ) : preview.isError ? (
            <ErrorState title="Could not render this template." error={preview.error} onRetry={() => void preview.refetch()} />
          ) : (
            <Card title={`Subject: ${preview.data.subject}`}>
              {/* Sandboxed: the email's HTML runs no script and cannot touch this page. */}
              <iframe className={css.frame} title={`Preview of ${preview.data.template}`} sandbox="" srcDoc={preview.data.html} />
              <details style={{ marginTop: "0.75rem" }}>
                <summary>Plain-text version</summary>
                <pre className={css.json}>{preview.data.text}</pre>
              </details>
            </Card>
          )}
        </>
      )}
    </>
  );
}
