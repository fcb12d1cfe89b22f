import Link from "next/link";
import type { CSSProperties, ReactNode } from "react";
import { accentOnWhite, textOn, type ShopSettings } from "@/server/domain/shop/settings";
import css from "./shop.module.css";

/** The storefront's frame: the operator's logo, name and accent colour around every shop page. */
export function ShopFrame({ settings, children }: { settings: ShopSettings; children: ReactNode }) {
  const style = {
    "--accent": settings.accentColour,
    "--on-accent": textOn(settings.accentColour),
    "--accent-ink": accentOnWhite(settings.accentColour),
  } as CSSProperties;
  return (
    <div className={css.page} style={style}>
      <header className={css.header}>
        <Link href="/pricing" className={css.brand}>
          <span className={css.logo} aria-hidden="true">
            {settings.logoText}
          </span>
          <span>{settings.name}</span>
        </Link>
        <Link href="/portal" className={css.navLink}>
          Your account
        </Link>
      </header>
      <main className={css.main}>{children}</main>
      <footer className={css.footer}>{`© ${settings.name}. Payments are handled securely by Stripe.`}</footer>
    </div>
  );
}
