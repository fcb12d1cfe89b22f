import type { ReactNode } from "react";
import css from "./ui.module.css";

/**
 * A plain table that scrolls sideways on a narrow screen. Pass <thead>/<tbody> as children:
 *   <Table label="Licenses"><thead>…</thead><tbody>…</tbody></Table>
 */
export function Table({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className={css.tableWrap}>
      <table className={css.table} aria-label={label}>
        {children}
      </table>
    </div>
  );
}
