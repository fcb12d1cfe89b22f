"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import css from "./admin.module.css";

/** Every admin area. Pages under each are built as app/admin/<area>/. */
export const ADMIN_AREAS = [
  { href: "/admin", label: "Dashboard" },
  { href: "/admin/licenses", label: "Licenses" },
  { href: "/admin/customers", label: "Customers" },
  { href: "/admin/products", label: "Products & plans" },
  { href: "/admin/releases", label: "Releases" },
  { href: "/admin/stripe-events", label: "Stripe events" },
  { href: "/admin/emails", label: "Emails" },
  { href: "/admin/webhooks", label: "Webhooks" },
  { href: "/admin/settings", label: "Settings" },
  { href: "/admin/website-errors", label: "Website errors" },
  { href: "/admin/audit", label: "Audit log" },
  { href: "/admin/export", label: "Export" },
  { href: "/admin/import", label: "Import" },
  { href: "/admin/setup", label: "Setup" },
] as const;

export function AdminNav() {
  const pathname = usePathname();
  const isActive = (href: string) => (href === "/admin" ? pathname === "/admin" : pathname === href || pathname.startsWith(`${href}/`));
  return (
    <nav className={css.nav} aria-label="Admin">
      <ul className={css.navList}>
        {ADMIN_AREAS.map((a) => (
          <li key={a.href}>
            <Link
              href={a.href}
              // Admin pages are dynamic and per-request: prefetching all ten on every page load is wasted work.
              prefetch={false}
              className={isActive(a.href) ? `${css.navLink} ${css.navActive}` : css.navLink}
              aria-current={isActive(a.href) ? "page" : undefined}
            >
              {a.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
