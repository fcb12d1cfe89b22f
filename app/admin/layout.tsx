import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { LinkButton } from "@/app/_components";
import { SignOutButton } from "@/app/signin/sign-out-button";
import { requirePageSession } from "@/server/auth/page-session";
import { AdminNav } from "./admin-nav";
import css from "./admin.module.css";

export const metadata: Metadata = { title: { default: "Admin · Keystead", template: "%s · Keystead admin" } };
// Who may see the admin app is decided per request (session, ADMIN_EMAILS), never at build time.
export const dynamic = "force-dynamic";

/**
 * The admin shell. Anonymous visitors were sent to sign in (proxy.ts; again here for a stale cookie). A
 * signed-in person who is not in ADMIN_EMAILS gets a plain page and none of the admin app: no nav, no children.
 * The data itself is guarded again by adminProcedure on every tRPC call.
 */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const session = await requirePageSession("/admin");
  if (!session.user.isAdmin) return <NotAnAdmin email={session.user.email} />;
  return (
    <div className={css.shell}>
      <header className={css.topbar}>
        <Link href="/admin" className={css.brand}>
          Keystead admin
        </Link>
        <div className={css.who}>
          <span className={css.email} title={session.user.email}>
            {session.user.email}
          </span>
          <SignOutButton small />
        </div>
      </header>
      <div className={css.body}>
        <AdminNav />
        <main className={css.main}>{children}</main>
      </div>
    </div>
  );
}

function NotAnAdmin({ email }: { email: string }) {
  return (
    <main className={css.denied}>
      <h1>Not an admin</h1>
      <p>
        You are signed in as <strong>{email}</strong>, which is not an admin account. The admin app is only for the
        addresses the operator lists in ADMIN_EMAILS.
      </p>
      <p>Your own licenses and devices are in your portal.</p>
      <div className={css.row}>
        <LinkButton href="/portal" variant="primary">
          Go to your licenses
        </LinkButton>
        <SignOutButton />
      </div>
    </main>
  );
}
