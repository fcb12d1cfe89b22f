"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { Button, ErrorState, Field, Notice, inputClass } from "@/app/_components";
import css from "./portal.module.css";

/**
 * The addresses whose licenses this account shows, and "add another email": bought with a work address and
 * signed in with a personal one, a customer proves the other address by a link sent to it.
 */
export function PortalEmails() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const emails = useQuery(trpc.portal.emails.queryOptions());
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState("");
  const add = useMutation(
    trpc.portal.addEmail.mutationOptions({
      onSuccess: async () => {
        setEmail("");
        await queryClient.invalidateQueries({ queryKey: trpc.portal.emails.queryKey() });
      },
    }),
  );

  return (
    <section className={css.emails} aria-labelledby="portal-emails-title">
      <div className={css.emailsHead}>
        <h2 id="portal-emails-title" className={css.subTitle} style={{ margin: 0 }}>
          Email addresses
        </h2>
        <Button size="small" aria-expanded={open} aria-controls="portal-add-email" onClick={() => setOpen(!open)}>
          Add another email
        </Button>
      </div>
      {emails.isSuccess && (
        <ul className={css.emailList} aria-label="Email addresses">
          {emails.data.map((e) => (
            <li key={e.email}>
              {e.email}
              {e.primary ? <span className={css.deviceMeta}> · signed in</span> : null}
            </li>
          ))}
        </ul>
      )}
      {emails.isError && <ErrorState title="Could not load your addresses." error={emails.error} onRetry={() => void emails.refetch()} />}
      {open && (
        <form
          id="portal-add-email"
          className={css.addEmail}
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate({ email: email.trim() });
          }}
        >
          <Field label="Another email address you bought with" htmlFor="portal-add-email-input" hint="We email it a link; once you click it, its licenses show here too.">
            <input
              id="portal-add-email-input"
              type="email"
              required
              autoComplete="email"
              className={inputClass}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </Field>
          <Button type="submit" variant="primary" loading={add.isPending}>
            Send the link
          </Button>
        </form>
      )}
      {add.isSuccess && <Notice tone="success">{`We sent a link to ${add.data.sentTo}. Click it to add the address; it works for an hour.`}</Notice>}
      {add.isError && <ErrorState title="Could not send the link." error={add.error} />}
    </section>
  );
}
