/** Formatting shared by the admin app and the portal (client and server safe). */

/** "Mar 5, 2027" in the viewer's locale; "—" for null. */
export function formatDate(iso: string | Date | null | undefined): string {
  if (!iso) return "—";
  const d = typeof iso === "string" ? new Date(iso) : iso;
  return d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** "Mar 5, 2027, 14:03"; "—" for null. */
export function formatDateTime(iso: string | Date | null | undefined): string {
  if (!iso) return "—";
  const d = typeof iso === "string" ? new Date(iso) : iso;
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** "3 minutes ago", "in 2 days"; "never" for null. */
export function formatRelative(iso: string | Date | null | undefined, nowMs = Date.now()): string {
  if (!iso) return "never";
  const d = typeof iso === "string" ? new Date(iso) : iso;
  const seconds = Math.round((d.getTime() - nowMs) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  if (abs < 60) return rtf.format(seconds, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), "hour");
  return rtf.format(Math.round(seconds / 86_400), "day");
}

export function formatNumber(n: number): string {
  return n.toLocaleString();
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/**
 * A sentence for any error a page may hit: a tRPC error's own message (the server words them for people),
 * a network failure, or anything else.
 */
export function errorMessage(error: unknown): string {
  if (!error) return "Something went wrong.";
  if (typeof error === "string") return error;
  if (error instanceof Error) {
    if (error.name === "TypeError" && /fetch|network/i.test(error.message)) {
      return "Could not reach the server. Check your connection and try again.";
    }
    const issues = (error as { data?: { issues?: { path?: PropertyKey[]; message: string }[] | null } }).data?.issues;
    if (issues?.length) {
      return issues.map((i) => (i.path?.length ? `${i.path.map(String).join(".")}: ${i.message}` : i.message)).join("; ");
    }
    return error.message || "Something went wrong.";
  }
  return "Something went wrong.";
}
