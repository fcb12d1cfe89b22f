import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { LinkButton } from "@/app/_components";
import { SignOutButton } from "@/app/signin/sign-out-button";
import { requirePageSession } from "@/server/auth/page-session";
import css from "./portal.module.css";

export const metadata: Metadata = { title: "Your licenses · Keystead" };
export const dynamic = "force-dynamic";

/** The customer portal's frame. Anonymous visitors are sent to sign in (proxy.ts, and here for a stale cookie). */
export default async function PortalLayout({ children }: { children: ReactNode }) {
  const session = await requirePageSession("/portal");
  return (
    <>
      <header className={css.topbar}>
        <Link href="/portal" className={css.brand}>
          Keystead
        </Link>
        <div className={css.who}>
          <span className={css.email} title={session.user.email}>
            {session.user.email}
          </span>
          {session.user.isAdmin && (
            <LinkButton href="/admin" size="small">
              Admin
            </LinkButton>
          )}
          <SignOutButton small />
        </div>
      </header>
      <main className={css.main}>{children}</main>
    </>
  );
}
