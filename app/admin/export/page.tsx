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
            Products, plans and their Stripe prices, customers, licenses <strong>with their keys</strong>, activations,
            Stripe events, the email outbox (without bodies) and the audit log, plus the public signing keys so offline
            tokens already handed out can still be verified.
          </p>
          <p className={`${css.small} ${mutedClass}`}>
            One consistent snapshot, one row per line inside <span className={monoClass}>{"{ tables: { … } }"}</span>.
          </p>
          {/* A plain <a download>: the route handler streams the file with an attachment header. */}
          <a className={buttonClass("primary")} href="/api/admin/export/json" download>
            Download JSON
          </a>
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
        These files hold every license key in the clear: store them as you would a password.
      </p>
    </>
  );
}
