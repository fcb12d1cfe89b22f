import nodemailer, { type Transporter } from "nodemailer";
import { Resend } from "resend";
import { devMailbox } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { env, type Env } from "@/server/env";
import { emailRoute } from "./route";
import { logger } from "@/server/observability/log";

export type OutgoingEmail = {
  /** The outbox row id: the provider's idempotency key (Resend) or the Message-ID's local part (SMTP). */
  outboxId: string;
  to: string;
  subject: string;
  html: string;
  text: string;
};

export type SendResult = { provider: "resend" | "smtp" | "dev"; messageId: string };

/** The provider refused or could not be reached; the message is the provider's own, kept as the row's last error. */
export class ProviderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProviderError";
  }
}

/**
 * Hands one email to the configured provider: Resend (RESEND_API_KEY), any SMTP server (SMTP_URL) or, with
 * neither and outside production, the dev mailbox table plus a log line. `tx` is only written to by the dev
 * mailbox, so that its row commits with the outbox row's "sent". In production with neither there is nowhere
 * to send: the caller holds the email instead (deliver.ts), and this refuses rather than print a key.
 */
export async function sendEmail(tx: DbOrTx, email: OutgoingEmail, settings: Env = env()): Promise<SendResult> {
  switch (emailRoute(settings)) {
    case "resend":
      return sendWithResend(email, settings);
    case "smtp":
      return sendWithSmtp(email, settings);
    case "dev-mailbox":
      return saveToDevMailbox(tx, email, settings);
    case "hold":
      throw new ProviderError("No email provider is configured (RESEND_API_KEY or SMTP_URL); production has no dev mailbox.");
  }
}

async function sendWithResend(email: OutgoingEmail, settings: Env): Promise<SendResult> {
  const resend = new Resend(settings.RESEND_API_KEY, { baseUrl: settings.RESEND_BASE_URL });
  const { data, error } = await resend.emails.send(
    { from: settings.EMAIL_FROM, to: email.to, subject: email.subject, html: email.html, text: email.text },
    // Resend keeps the key for 24 h: a retry after a lost response (or a crash before we recorded "sent")
    // returns the first send's id instead of sending again.
    // The timeout keeps a hung connection from holding the outbox row's lock for long.
    { idempotencyKey: email.outboxId, signal: AbortSignal.timeout(30_000) },
  );
  if (error || !data) {
    const status = error?.statusCode ? ` ${error.statusCode}` : "";
    throw new ProviderError(`Resend${status}: ${error?.message ?? "empty response"}`);
  }
  return { provider: "resend", messageId: data.id };
}

const smtpHolder = globalThis as unknown as { __keysteadSmtp?: { url: string; transport: Transporter } };

/**
 * One pooled transport per process: opening a connection (greeting, EHLO) per message costs more than the
 * message itself, and a burst of checkouts would otherwise pay it a thousand times.
 */
function smtpTransport(url: string): Transporter {
  if (smtpHolder.__keysteadSmtp?.url !== url) {
    smtpHolder.__keysteadSmtp?.transport.close();
    const transport = nodemailer.createTransport({
      url,
      pool: true,
      maxConnections: 4,
      maxMessages: 500,
      // Defaults wait minutes on a dead server while the outbox row stays locked; fail fast and retry later.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    smtpHolder.__keysteadSmtp = { url, transport };
  }
  return smtpHolder.__keysteadSmtp!.transport;
}

async function sendWithSmtp(email: OutgoingEmail, settings: Env): Promise<SendResult> {
  try {
    const info = await smtpTransport(settings.SMTP_URL!).sendMail({
      from: settings.EMAIL_FROM,
      to: email.to,
      subject: email.subject,
      html: email.html,
      text: email.text,
      // SMTP has no idempotency key; a stable Message-ID at least lets mail systems and people spot a duplicate.
      messageId: `<${email.outboxId}@${messageIdDomain(settings)}>`,
    });
    return { provider: "smtp", messageId: String(info.messageId) };
  } catch (err) {
    throw new ProviderError(`SMTP: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function saveToDevMailbox(tx: DbOrTx, email: OutgoingEmail, settings: Env): Promise<SendResult> {
  const [row] = await tx
    .insert(devMailbox)
    .values({
      outboxId: email.outboxId,
      from: settings.EMAIL_FROM,
      to: email.to,
      subject: email.subject,
      html: email.html,
      text: email.text,
    })
    .returning({ id: devMailbox.id });
  // No provider configured: the log is the other place a developer looks for the key.
  const lines = email.text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /\b[0-9A-Z]{5}(-[0-9A-Z]{5}){4}\b/.test(l) || /https?:\/\//.test(l));
  logger().info(
    [
      `[mail] to ${email.to}: "${email.subject}" (no email provider configured; see ${settings.APP_URL}/dev/mailbox)`,
      ...[...new Set(lines)].map((l) => `[mail]   ${l}`),
    ].join("\n"),
  );
  return { provider: "dev", messageId: row!.id };
}

function messageIdDomain(settings: Env): string {
  const match = /@([^>\s]+)>?\s*$/.exec(settings.EMAIL_FROM);
  return match?.[1] ?? new URL(settings.APP_URL).hostname;
}
