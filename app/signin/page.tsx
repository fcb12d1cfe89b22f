import type { Metadata } from "next";
import { LinkButton } from "@/app/_components";
import { getPageSession } from "@/server/auth/page-session";
import { safeCallbackPath, signInErrorMessage } from "./callback-url";
import { SignInForm } from "./signin-form";
import { SignOutButton } from "./sign-out-button";
import { SignInCard } from "./card";
import css from "./signin.module.css";

export const metadata: Metadata = { title: "Sign in · Keystead" };
export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function SignInPage({ searchParams }: Props) {
  const params = await searchParams;
  const callbackUrl = safeCallbackPath(params.callbackUrl);
  const error = signInErrorMessage(typeof params.error === "string" ? params.error : null);
  const session = await getPageSession();

  return (
    <SignInCard>
      {session ? (
        <>
          <h1 className={css.title}>You are signed in</h1>
          <p className={css.lead}>As {session.user.email}.</p>
          <div className={css.links}>
            <LinkButton href="/portal" variant="primary">
              Your licenses
            </LinkButton>
            {session.user.isAdmin && <LinkButton href="/admin">Admin</LinkButton>}
            <SignOutButton />
          </div>
        </>
      ) : (
        <>
          <h1 className={css.title}>Sign in</h1>
          <p className={css.lead}>
            Enter the email address you bought with. We will email you a link that signs you in; no password needed.
          </p>
          <SignInForm callbackUrl={callbackUrl} initialError={error} />
          <p className={css.footer}>
            Customers see their licenses and devices. Operators listed in ADMIN_EMAILS also get the admin app.
          </p>
        </>
      )}
    </SignInCard>
  );
}
