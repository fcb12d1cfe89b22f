"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import css from "./mailbox.module.css";

/** The list (newest first) and the selected message; polls so a freshly queued email shows up by itself. */
export function Mailbox() {
  const trpc = useTRPC();
  const list = useQuery(trpc.dev.mailbox.list.queryOptions(undefined, { refetchInterval: 5_000 }));
  const [selected, setSelected] = useState<string | null>(null);

  if (list.isPending) return <p className={css.muted}>Loading…</p>;
  if (list.isError) return <p className={css.error}>Could not load the mailbox: {list.error.message}</p>;
  if (list.data.length === 0) {
    return <p className={css.muted}>No emails yet. Issue a license and its email will appear here.</p>;
  }

  const current = selected ?? list.data[0]!.id;
  return (
    <div className={css.layout}>
      <ul className={css.list} aria-label="Messages">
        {list.data.map((m) => (
          <li key={m.id}>
            <button
              type="button"
              className={m.id === current ? `${css.item} ${css.itemActive}` : css.item}
              aria-current={m.id === current}
              onClick={() => setSelected(m.id)}
            >
              <span className={css.subject}>{m.subject}</span>
              <span className={css.meta}>
                {m.to} · <time dateTime={m.createdAt}>{new Date(m.createdAt).toLocaleString()}</time>
              </span>
            </button>
          </li>
        ))}
      </ul>
      <Message id={current} />
    </div>
  );
}

function Message({ id }: { id: string }) {
  const trpc = useTRPC();
  const message = useQuery(trpc.dev.mailbox.get.queryOptions({ id }, { staleTime: Infinity }));

  if (message.isPending) return <section className={css.viewer}>Loading…</section>;
  if (message.isError) return <section className={css.viewer}>{message.error.message}</section>;
  const m = message.data;
  // Links in the email open in a new tab instead of inside the frame.
  const srcDoc = m.html.includes("<head>") ? m.html.replace("<head>", '<head><base target="_blank">') : m.html;
  return (
    <section className={css.viewer} aria-label="Message">
      <h2 className={css.viewerSubject}>{m.subject}</h2>
      <dl className={css.headers}>
        <dt>From</dt>
        <dd>{m.from}</dd>
        <dt>To</dt>
        <dd>{m.to}</dd>
        <dt>Date</dt>
        <dd>{new Date(m.createdAt).toLocaleString()}</dd>
      </dl>
      {/* Sandboxed: the email's HTML runs no script and cannot touch this page. */}
      <iframe
        className={css.frame}
        title={m.subject}
        sandbox="allow-popups allow-popups-to-escape-sandbox"
        srcDoc={srcDoc}
      />
      <details className={css.text}>
        <summary>Plain-text version</summary>
        <pre>{m.text}</pre>
      </details>
    </section>
  );
}
