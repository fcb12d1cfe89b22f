import { Fragment, type ReactNode } from "react";
import css from "./ui.module.css";

/** Title, one line of description and the page's main actions. */
export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <header className={css.pageHeader}>
      <div>
        <h1 className={css.pageTitle}>{title}</h1>
        {description && <p className={css.pageDescription}>{description}</p>}
      </div>
      {actions && <div className={css.actions}>{actions}</div>}
    </header>
  );
}

export function Card({ title, children, actions }: { title?: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className={css.card} aria-label={title}>
      {(title || actions) && (
        <div style={{ display: "flex", justifyContent: "space-between", gap: "0.5rem", flexWrap: "wrap" }}>
          {title && <h2 className={css.cardTitle}>{title}</h2>}
          {actions}
        </div>
      )}
      {children}
    </section>
  );
}

/** One number on a dashboard. `warn` paints it red (something needs attention). */
export function Stat({ label, value, hint, warn }: { label: string; value: ReactNode; hint?: ReactNode; warn?: boolean }) {
  return (
    <div className={warn ? `${css.stat} ${css.statWarn}` : css.stat}>
      <p className={css.statLabel}>{label}</p>
      <p className={css.statValue}>{value}</p>
      {hint && <p className={css.statHint}>{hint}</p>}
    </div>
  );
}

export function Grid({ children }: { children: ReactNode }) {
  return <div className={css.grid}>{children}</div>;
}

const BADGE_TONES = {
  neutral: undefined,
  green: css.badgeGreen,
  amber: css.badgeAmber,
  red: css.badgeRed,
  blue: css.badgeBlue,
} as const;

export type BadgeTone = keyof typeof BADGE_TONES;

export function Badge({ tone = "neutral", children }: { tone?: BadgeTone; children: ReactNode }) {
  return <span className={[css.badge, BADGE_TONES[tone]].filter(Boolean).join(" ")}>{children}</span>;
}

const STATUS_TONES: Record<string, BadgeTone> = {
  active: "green",
  sent: "green",
  processed: "green",
  delivered: "green",
  past_due: "amber",
  pending: "amber",
  suspended: "amber",
  ignored: "neutral",
  revoked: "red",
  expired: "red",
  failed: "red",
};

/** A license, email or Stripe event status as a coloured badge ("past_due" reads "past due"). */
export function StatusBadge({ status }: { status: string }) {
  return <Badge tone={STATUS_TONES[status] ?? "neutral"}>{status.replaceAll("_", " ")}</Badge>;
}

/** A labelled form field: <Field label="Email" hint="…"><input className={inputClass} …/></Field> */
export function Field({ label, hint, htmlFor, children }: { label: string; hint?: ReactNode; htmlFor?: string; children: ReactNode }) {
  return (
    <div className={css.field}>
      <label className={css.label} htmlFor={htmlFor}>
        {label}
      </label>
      {children}
      {hint && <span className={css.hint}>{hint}</span>}
    </div>
  );
}

export const inputClass = css.input;
export const monoClass = css.mono;
export const mutedClass = css.muted;

/** One identifier (slug, price id, fingerprint), kept whole: cut with an ellipsis, the full text on hover. */
export function Ident({ children, className }: { children: string; className?: string }) {
  return (
    <span className={className ? `${css.ident} ${className}` : css.ident} title={children}>
      {children}
    </span>
  );
}

/**
 * A dotted name (a Stripe event type: customer.subscription.pending_update_expired) that may wrap, but only after
 * a dot or an underscore, so each word stays readable in a narrow card.
 */
export function DottedName({ children }: { children: string }) {
  const parts = children.split(/(?<=[._])/);
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>
          {part}
          {i < parts.length - 1 && <wbr />}
        </Fragment>
      ))}
    </>
  );
}

/** Several identifiers, each kept whole, wrapping between them; `empty` when there are none. */
export function Idents({ items, empty = "—" }: { items: string[]; empty?: string }) {
  if (items.length === 0) return <>{empty}</>;
  return (
    <span className={css.idents}>
      {items.map((item) => (
        <Ident key={item}>{item}</Ident>
      ))}
    </span>
  );
}
