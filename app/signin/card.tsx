import Link from "next/link";
import type { ReactNode } from "react";
import css from "./signin.module.css";

/** The frame of every sign-in page: a centred card under the product's name. */
export function SignInCard({ children }: { children: ReactNode }) {
  return (
    <main className={css.page}>
      <div className={css.card}>
        <Link href="/" className={css.brand}>
          Keystead
        </Link>
        {children}
      </div>
    </main>
  );
}
