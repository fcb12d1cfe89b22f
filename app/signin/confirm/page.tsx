import type { Metadata } from "next";
import Link from "next/link";
import { Button } from "@/app/_components";
import { CALLBACK_PARAMS, callbackPath } from "@/server/auth/sign-in-link";
import { SignInCard } from "../card";
import css from "../signin.module.css";

export const metadata: Metadata = { title: "Confirm sign-in · Keystead", robots: { index: false } };
export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/**
 * Where the emailed sign-in link lands. Opening it spends nothing (mail scanners open every link); the button
 * posts the link's parameters to /signin/confirm/go, which hands them to next-auth.
 */
export default async function ConfirmSignInPage({ searchParams }: Props) {
  const params = await searchParams;
  const complete = callbackPath((name) => params[name]) !== null;
  const email = typeof params.email === "string" && params.email.length <= 320 ? params.email : null;
  return (
    <SignInCard>
      {complete ? (
        <>
          <h1 className={css.title}>Sign in</h1>
          <p className={css.lead}>
            Continue as <strong>{email}</strong>.
          </p>
          <form method="post" action="/signin/confirm/go" className={css.form}>
            {CALLBACK_PARAMS.map((name) =>
              typeof params[name] === "string" ? (
                <input key={name} type="hidden" name={name} value={params[name]} />
              ) : null,
            )}
            <Button type="submit" variant="primary" className={css.full}>
              Sign in
            </Button>
          </form>
          <p className={css.footer}>
            This step keeps email security scanners, which open every link, from using up your one-time link.
          </p>
        </>
      ) : (
        <>
          <h1 className={css.title}>This link is incomplete</h1>
          <p className={css.lead}>Part of the sign-in link is missing; it may have been cut when it was copied.</p>
          <p className={css.footer}>
            <Link href="/signin">Ask for a new link</Link>.
          </p>
        </>
      )}
    </SignInCard>
  );
}
