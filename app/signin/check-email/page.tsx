import type { Metadata } from "next";
import Link from "next/link";
import { devMailboxEnabled } from "@/server/domain/mail/dev-mailbox";
import { SignInCard } from "../card";
import css from "../signin.module.css";

export const metadata: Metadata = { title: "Check your email · Keystead" };
export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function CheckEmailPage({ searchParams }: Props) {
  const { email } = await searchParams;
  const address = typeof email === "string" && email.length <= 320 ? email : null;
  return (
    <SignInCard>
      <h1 className={css.title}>Check your email</h1>
      <p className={css.lead}>
        {address ? (
          <>
            We sent a sign-in link to <strong>{address}</strong>.
          </>
        ) : (
          "We sent you a sign-in link."
        )}{" "}
        Open it on this device to sign in. The link works once, for one hour.
      </p>
      {devMailboxEnabled() && (
        <p className={css.lead}>
          No email provider is configured, so the email is in the <Link href="/dev/mailbox">dev mailbox</Link> (and the
          server log).
        </p>
      )}
      <p className={css.footer}>
        Nothing arrived after a few minutes? Check your spam folder, or <Link href="/signin">try again</Link>.
      </p>
    </SignInCard>
  );
}
