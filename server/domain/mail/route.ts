import { emailProvider, env, isDevelopmentMode, type Env } from "@/server/env";

/**
 * Where an email goes right now. Without a provider, development shows it in the dev mailbox; production holds
 * it in the outbox ("waiting") instead, because the dev mailbox and the log would show keys and sign-in links to
 * whoever can read them.
 */
export type EmailRoute = "resend" | "smtp" | "dev-mailbox" | "hold";

/**
 * Anything but `npm run dev` and the tests holds: a worker started on a server without NODE_ENV must not write
 * keys into the dev mailbox either.
 */
export const isProduction = (settings: Env = env()) => !isDevelopmentMode(settings);

export function emailRoute(settings: Env = env()): EmailRoute {
  const provider = emailProvider(settings);
  if (provider !== "dev") return provider;
  return isProduction(settings) ? "hold" : "dev-mailbox";
}

/** What an operator sets to send email for real (shown wherever waiting emails are counted). */
export const PROVIDER_SETTINGS_HINT = "set RESEND_API_KEY or SMTP_URL and restart Keystead";
