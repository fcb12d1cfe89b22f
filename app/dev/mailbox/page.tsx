import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { devMailboxEnabled } from "@/server/domain/mail/dev-mailbox";
import { isProduction } from "@/server/domain/mail/route";
import { emailProvider } from "@/server/env";
import { Mailbox } from "./mailbox";
import css from "./mailbox.module.css";

export const metadata: Metadata = { title: "Dev mailbox · Keystead" };
// Whether the mailbox is on depends on this process's settings, not on the build.
export const dynamic = "force-dynamic";

export default function DevMailboxPage() {
  // Production has no dev mailbox at all: emails wait in the outbox for a provider instead.
  if (isProduction()) notFound();
  if (!devMailboxEnabled()) {
    return (
      <main className={css.page}>
        <h1 className={css.title}>Dev mailbox</h1>
        <p className={css.lead}>
          Emails are being sent through {emailProvider() === "resend" ? "Resend" : "SMTP"}, so there is nothing here.
        </p>
      </main>
    );
  }
  return (
    <main className={css.page}>
      <h1 className={css.title}>Dev mailbox</h1>
      <p className={css.lead}>
        No email provider is configured, so emails land here (and in the server log) instead of being sent. Set
        RESEND_API_KEY or SMTP_URL to send them for real.
      </p>
      <Mailbox />
    </main>
  );
}
