import Link from "next/link";
import type { ButtonHTMLAttributes, ReactNode } from "react";
import css from "./ui.module.css";

export type ButtonVariant = "default" | "primary" | "danger" | "ghost";

const variantClass: Record<ButtonVariant, string | undefined> = {
  default: undefined,
  primary: css.primary,
  danger: css.danger,
  ghost: css.ghost,
};

export function buttonClass(variant: ButtonVariant = "default", size: "normal" | "small" = "normal") {
  return [css.button, variantClass[variant], size === "small" ? css.small : undefined].filter(Boolean).join(" ");
}

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: ButtonVariant;
  size?: "normal" | "small";
  /** Shows a spinner and disables the button while an action runs. */
  loading?: boolean;
};

/** A button; `type` defaults to "button" so it never submits a form by accident. */
export function Button({ variant, size, loading, disabled, className, children, type = "button", ...rest }: ButtonProps) {
  return (
    <button
      type={type}
      className={[buttonClass(variant, size), className].filter(Boolean).join(" ")}
      disabled={disabled || loading}
      aria-busy={loading || undefined}
      {...rest}
    >
      {loading && <span className={css.spinner} aria-hidden="true" />}
      {children}
    </button>
  );
}

/** A link that looks like a button. */
export function LinkButton({
  href,
  variant,
  size,
  children,
}: {
  href: string;
  variant?: ButtonVariant;
  size?: "normal" | "small";
  children: ReactNode;
}) {
  return (
    <Link href={href} className={buttonClass(variant, size)}>
      {children}
    </Link>
  );
}
