import type { Metadata } from "next";
import { Card, PageHeader, buttonClass, monoClass, mutedClass } from "@/app/_components";
import css from "../licenses/_parts/parts.module.css";

export const metadata: Metadata = { title: "Export" };

/**
 * The exit plan. Plain links: the browser downloads the files straight from the route handlers, which stream
 * them (app/api/admin/export/*), so even a million licenses never sit in this page's memory or the server's.
 */
export default function ExportPage() {
  return (
    <>
      <PageHeader title="Export" description="Everything Keystead knows, as files you can take elsewhere. Your data is yours." />
      <div className={css.twoColumns}>
        <Card title="Everything, as JSON">
          <p>
            Products, plans and their Stripe prices, customers, licenses with their keys, activations, Stripe events and
            facts, the email outbox (status, without bodies), the audit log, usage counters, settings and the signing keys
            (sealed), so offline tokens already handed out keep verifying wherever you import it.
          </p>
          <p className={`${css.small} ${mutedClass}`}>
            One consistent snapshot, one row per line inside <span className={monoClass}>{"{ version: 2, tables: { … } }"}</span>.{" "}
            <strong>Sealed keys</strong> stay encrypted under this server&apos;s AUTH_SECRET (import them into a Keystead that
            has the same secret); <strong>clear keys</strong> are readable by anyone holding the file.
          </p>
          {/* Plain <a download>s: the route handler streams the file with an attachment header. */}
          <div style={{ display: "flex", gap: "0.5rem", flexWrap: "wrap" }}>
            <a className={buttonClass("primary")} href="/api/admin/export/json?keys=sealed" download>
              Download JSON (sealed keys)
            </a>
            <a className={buttonClass()} href="/api/admin/export/json?keys=clear" download>
              Download JSON (clear keys)
            </a>
          </div>
        </Card>
        <Card title="Licenses, as CSV">
          <p>One line per license: its key, status, product and plan, customer, seats in use, expiry and Stripe references.</p>
          <p className={`${css.small} ${mutedClass}`}>Opens in any spreadsheet; cells a spreadsheet would run as a formula start with an apostrophe.</p>
          <a className={buttonClass()} href="/api/admin/export/licenses-csv" download>
            Download CSV
          </a>
        </Card>
      </div>
      <p className={`${css.small} ${mutedClass}`} style={{ marginTop: "1rem" }}>
        The CSV and the clear-keys JSON hold every license key in the clear: store them as you would a password.
      </p>
    </>
  );
}
