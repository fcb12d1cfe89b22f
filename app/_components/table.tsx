import type { ReactNode } from "react";
import css from "./ui.module.css";

/**
 * A plain table. Pass <thead>/<tbody> as children:
 *   <Table label="Licenses"><thead>…</thead><tbody>…</tbody></Table>
 * On a narrow screen it scrolls sideways, or, with `cardsOnPhone`, shows each row as a card of labelled
 * fields: give every <td> a `data-label` (its column's name; leave it off for a cell of buttons).
 */
export function Table({ label, cardsOnPhone = false, children }: { label: string; cardsOnPhone?: boolean; children: ReactNode }) {
  return (
    <div className={cardsOnPhone ? `${css.tableWrap} ${css.cards}` : css.tableWrap}>
      <table className={css.table} aria-label={label}>
        {children}
      </table>
    </div>
  );
}
