import type { Metadata } from "next";
import { devMailboxEnabled } from "@/server/domain/mail/dev-mailbox";
import { emailProvider } from "@/server/env";
import { Mailbox } from "./mailbox";
import css from "./mailbox.module.css";

export const metadata: Metadata = { title: "Dev mailbox · Keystead" };
// Whether the mailbox is on depends on this process's settings, not on the build.
export const dynamic = "force-dynamic";

export default function DevMailboxPage() {
  if (!devMailboxEnabled()) {
    const provider = emailProvider();
    return (
      <main className={css.page}>
        <h1 className={css.title}>Dev mailbox</h1>
        <p className={css.lead}>
          {provider === "dev"
            ? "The dev mailbox is off in production: it would show license keys to anyone who can reach this page."
            : `Emails are being sent through ${provider === "resend" ? "Resend" : "SMTP"}, so there is nothing here.`}
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
