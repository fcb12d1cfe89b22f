import { sql } from "drizzle-orm";
import { appState, products } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { WEBHOOK_LAST_SEEN_KEY } from "@/server/domain/billing/webhook";
import { emailProvider, env, type Env } from "@/server/env";
import { parseWebhookLastSeen } from "./dashboard";

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

export async function setupStatus(db: DbOrTx, settings: Env = env()): Promise<SetupStatus> {
  const [[product], [seen]] = await Promise.all([
    db.select({ one: sql<number>`1` }).from(products).limit(1),
    db.select({ value: appState.value }).from(appState).where(sql`${appState.key} = ${WEBHOOK_LAST_SEEN_KEY}`),
  ]);
  const webhookUrl = `${settings.APP_URL}/api/stripe/webhook`;
  const missingStripe = [
    !settings.STRIPE_SECRET_KEY && "STRIPE_SECRET_KEY",
    !settings.STRIPE_WEBHOOK_SECRET && "STRIPE_WEBHOOK_SECRET",
  ].filter((v): v is string => Boolean(v));
  const provider = emailProvider(settings);
  const lastSeen = parseWebhookLastSeen(seen?.value);

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
              `Add a webhook endpoint for ${webhookUrl} (Developers → Webhooks) and copy its signing secret into STRIPE_WEBHOOK_SECRET (whsec_…).`,
              "Restart Keystead so it reads the new settings.",
            ],
    },
    {
      id: "email",
      ok: provider !== "dev",
      title: "Email delivery",
      status:
        provider === "resend"
          ? "Emails are sent through Resend."
          : provider === "smtp"
            ? "Emails are sent through SMTP."
            : "No email provider is configured: emails only reach the dev mailbox and the log, customers get nothing.",
      fix:
        provider !== "dev"
          ? []
          : [
              "Set RESEND_API_KEY (Resend) or SMTP_URL (smtp://user:pass@host:587, any mail server), not both.",
              `Set EMAIL_FROM to the sender customers see (now "${settings.EMAIL_FROM}").`,
              "Restart Keystead so it reads the new settings.",
            ],
    },
    {
      id: "webhook",
      ok: lastSeen !== null,
      title: "Stripe webhook received",
      status: lastSeen
        ? `Last webhook: ${lastSeen.type ?? "an event"} at ${lastSeen.at}.`
        : "No Stripe webhook has ever reached this server.",
      fix: lastSeen
        ? []
        : [
            `In Stripe, point a webhook endpoint at ${webhookUrl} and send checkout.session.completed plus the subscription and invoice events.`,
            "Send a test event from the Stripe dashboard (or run `stripe listen --forward-to " + webhookUrl + "` while developing).",
            "If Stripe reports 400 INVALID_SIGNATURE, STRIPE_WEBHOOK_SECRET does not match that endpoint's signing secret.",
          ],
    },
  ];
  const missing = checks.filter((c) => !c.ok).length;
  return { complete: missing === 0, missing, checks };
}
