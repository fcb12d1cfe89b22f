import { sql } from "drizzle-orm";
import { products } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import type { WebhookRejections } from "@/server/domain/billing/webhook";
import { emailDeliveryStatus } from "@/server/domain/mail/waiting";
import { env, type Env } from "@/server/env";
import { webhookState, type WebhookLastSeen } from "./dashboard";

/**
 * What a new operator still has to do before Keystead sells licenses by itself, each with how to fix it.
 * Shown on /admin/setup and as a banner on the dashboard while anything is missing.
 */
export type SetupCheckId = "product" | "stripe" | "email" | "webhook";

export type SetupCheck = {
  id: SetupCheckId;
  ok: boolean;
  title: string;
  /** What we see now, in words. */
  status: string;
  /** How to fix it (empty when ok). */
  fix: string[];
};

export type SetupStatus = { complete: boolean; missing: number; checks: SetupCheck[] };

/** Stripe cannot call localhost: there, `stripe listen` forwards the events; in production the public URL is the endpoint. */
export function isLocalAppUrl(appUrl: string): boolean {
  const host = new URL(appUrl).hostname;
  return host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127\./.test(host);
}

/** How to get Stripe's events to this server, for the APP_URL it runs under. */
function webhookEndpointSteps(webhookUrl: string, local: boolean): string[] {
  return local
    ? [
        `Stripe cannot reach ${webhookUrl}. While developing, run \`stripe listen --forward-to ${webhookUrl}\` (the Stripe CLI) and copy the signing secret it prints (whsec_…) into STRIPE_WEBHOOK_SECRET.`,
        "In production, set APP_URL to the public URL and add a webhook endpoint for <APP_URL>/api/stripe/webhook in the Stripe dashboard (Developers → Webhooks); its signing secret goes into STRIPE_WEBHOOK_SECRET.",
      ]
    : [
        `Add a webhook endpoint for ${webhookUrl} in the Stripe dashboard (Developers → Webhooks) with checkout.session.completed plus the subscription and invoice events, and copy its signing secret into STRIPE_WEBHOOK_SECRET (whsec_…).`,
      ];
}

function webhookCheck(webhookUrl: string, local: boolean, lastSeen: WebhookLastSeen | null, rejected: WebhookRejections | null): SetupCheck {
  const rejectedText = rejected ? rejectedWebhooksText(rejected) : null;
  // Refusals after the last accepted delivery mean the secret changed or something else is calling.
  const rejectedSince = rejected && (!lastSeen || rejected.lastAt > lastSeen.at) ? rejectedText : null;
  if (lastSeen) {
    return {
      id: "webhook",
      ok: true,
      title: "Stripe webhook received",
      status: `Last webhook: ${lastSeen.type ?? "an event"} at ${lastSeen.at}.${rejectedSince ? ` Since then, ${rejectedSince}` : ""}`,
      fix: [],
    };
  }
  return {
    id: "webhook",
    ok: false,
    title: "Stripe webhook received",
    status: rejectedText ? `Webhooks are arriving but rejected: ${rejectedText}` : "No Stripe webhook has ever reached this server.",
    fix: rejected
      ? [
          rejected.lastReason === "not_configured"
            ? "STRIPE_WEBHOOK_SECRET is not set, so no delivery can be verified: set it to the endpoint's signing secret and restart Keystead."
            : "The signature does not match: STRIPE_WEBHOOK_SECRET must be the signing secret of this very endpoint (with `stripe listen`, the one it prints), then restart Keystead.",
          "Then resend the failed events from the Stripe dashboard (or let reconciliation find them).",
        ]
      : [
          ...webhookEndpointSteps(webhookUrl, local),
          "Send a test event (from the Stripe dashboard, or `stripe trigger checkout.session.completed`).",
          "If Stripe reports 400 INVALID_SIGNATURE, STRIPE_WEBHOOK_SECRET does not match that endpoint's signing secret.",
        ],
  };
}

/** "3 deliveries rejected, the last at … (bad signature)." */
export function rejectedWebhooksText(r: WebhookRejections): string {
  const why = r.lastReason === "not_configured" ? "STRIPE_WEBHOOK_SECRET not set" : "bad signature";
  return `${r.count} ${r.count === 1 ? "delivery" : "deliveries"} rejected, the last at ${r.lastAt} (${why}).`;
}

export async function setupStatus(db: DbOrTx, settings: Env = env()): Promise<SetupStatus> {
  const [[product], webhook, delivery] = await Promise.all([
    db.select({ one: sql<number>`1` }).from(products).limit(1),
    webhookState(db),
    emailDeliveryStatus(db, settings),
  ]);
  const webhookUrl = `${settings.APP_URL}/api/stripe/webhook`;
  const local = isLocalAppUrl(settings.APP_URL);
  const missingStripe = [
    !settings.STRIPE_SECRET_KEY && "STRIPE_SECRET_KEY",
    !settings.STRIPE_WEBHOOK_SECRET && "STRIPE_WEBHOOK_SECRET",
  ].filter((v): v is string => Boolean(v));
  const sending = delivery.route === "resend" || delivery.route === "smtp";

  const checks: SetupCheck[] = [
    {
      id: "product",
      ok: Boolean(product),
      title: "A product to sell",
      status: product ? "At least one product exists." : "There is no product yet.",
      fix: product
        ? []
        : [
            "Create a product and a plan under Products (/admin/products), or with POST /api/v1/admin/products and POST /api/v1/admin/plans.",
            "Bind the plan to your Stripe price id(s) so a paid checkout issues a license of that plan.",
          ],
    },
    {
      id: "stripe",
      ok: missingStripe.length === 0,
      title: "Stripe credentials",
      status:
        missingStripe.length === 0
          ? "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set."
          : `${missingStripe.join(" and ")} ${missingStripe.length === 1 ? "is" : "are"} not set.`,
      fix:
        missingStripe.length === 0
          ? []
          : [
              "In the Stripe dashboard, copy a secret key (Developers → API keys) into STRIPE_SECRET_KEY (sk_… or a restricted rk_… key).",
              ...webhookEndpointSteps(webhookUrl, local),
              "Restart Keystead so it reads the new settings.",
            ],
    },
    {
      id: "email",
      ok: sending,
      title: "Email delivery",
      status:
        delivery.route === "resend"
          ? "Emails are sent through Resend."
          : delivery.route === "smtp"
            ? "Emails are sent through SMTP."
            : [
                delivery.route === "hold"
                  ? "No email provider is configured: customers get nothing yet, each email waits in the outbox."
                  : "No email provider is configured: emails only reach the dev mailbox and the log, customers get nothing.",
                delivery.message,
              ]
                .filter(Boolean)
                .join(" "),
      fix: sending
        ? []
        : [
            "Set RESEND_API_KEY (Resend) or SMTP_URL (smtp://user:pass@host:587, any mail server), not both.",
            `Set EMAIL_FROM to the sender customers see (now "${settings.EMAIL_FROM}").`,
            delivery.route === "hold"
              ? "Restart Keystead: every waiting email is then sent, once."
              : "Restart Keystead so it reads the new settings.",
          ],
    },
    webhookCheck(webhookUrl, local, webhook.webhookLastSeen, webhook.webhookRejected),
  ];
  const missing = checks.filter((c) => !c.ok).length;
  return { complete: missing === 0, missing, checks };
}
