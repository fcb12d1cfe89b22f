import { inArray, sql } from "drizzle-orm";
import { isTemplateName, TemplatePropsSchemas, type TemplateProps } from "@/emails";
import { LicenseIssuedEmail, licenseIssuedSubject, type IssuedLicense } from "@/emails/license-issued";
import { LicenseKeyRotatedEmail, licenseKeyRotatedSubject } from "@/emails/license-key-rotated";
import { rotatedKeyEmailProps } from "@/server/domain/licensing/admin-actions";
import { SignInLinkEmail, signInLinkSubject } from "@/emails/sign-in-link";
import { WebhookDisabledEmail, webhookDisabledSubject } from "@/emails/webhook-disabled";
import { TrialLinkEmail, trialLinkSubject } from "@/emails/trial-link";
import { openTrialUrl } from "@/server/domain/shop/trials";
import { openSignInUrl } from "@/server/auth/sign-in-link";
import { PortalConfirmEmail, portalConfirmSubject } from "@/emails/portal-confirm";
import { openPortalConfirmUrl } from "@/server/domain/portal/confirmations";
import { customers, emailOutbox, licenses, plans, products } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { loadLicenseViews } from "@/server/domain/licensing/view";
import { displayHint, revealLicenseKey } from "@/server/domain/licensing/license-key";
import { env } from "@/server/env";
import { isLifecycleTemplate, renderLifecycleEmail } from "./render-lifecycle";
import { isResetTemplate, renderResetEmail } from "./render-reset";
import { PermanentEmailError, renderElement, type RenderedEmail } from "./rendered";

export { PermanentEmailError, type RenderedEmail } from "./rendered";

type OutboxRow = Pick<typeof emailOutbox.$inferSelect, "template" | "props"> & { customerId?: string | null };

/**
 * Turns an outbox row into subject, HTML and text. Runs at send time: the row stores ids, and the keys are
 * decrypted here, so the outbox never holds a secret.
 */
export async function renderEmail(tx: DbOrTx, row: OutboxRow): Promise<RenderedEmail> {
  if (!isTemplateName(row.template)) throw new PermanentEmailError(`Unknown email template "${row.template}".`);
  const parsed = TemplatePropsSchemas[row.template].safeParse(row.props);
  if (!parsed.success) {
    throw new PermanentEmailError(`Bad props for "${row.template}": ${parsed.error.issues[0]?.message ?? "invalid"}`);
  }
  switch (row.template) {
    case "license-issued": {
      const issued = await resolveIssuedLicenses(tx, parsed.data as TemplateProps["license-issued"]);
      return renderElement(
        licenseIssuedSubject(issued),
        <LicenseIssuedEmail appUrl={env().APP_URL} licenses={issued} />,
      );
    }
    case "sign-in-link": {
      const props = parsed.data as TemplateProps["sign-in-link"];
      // An expired link is useless: better a failed row the admin can see than an email that cannot work.
      if (new Date(props.expiresAt).getTime() <= Date.now()) {
        throw new PermanentEmailError("The sign-in link expired before it could be sent.");
      }
      let url: string;
      try {
        url = openSignInUrl(props.sealedUrl);
      } catch {
        throw new PermanentEmailError("The sign-in link cannot be decrypted (was AUTH_SECRET changed?).");
      }
      const appUrl = env().APP_URL;
      return renderElement(signInLinkSubject(appUrl), <SignInLinkEmail appUrl={appUrl} url={url} expiresAt={props.expiresAt} />);
    }
    case "portal-confirm": {
      const props = parsed.data as TemplateProps["portal-confirm"];
      if (new Date(props.expiresAt).getTime() <= Date.now()) throw new PermanentEmailError("The confirmation link expired before it could be sent.");
      let url: string;
      try {
        url = openPortalConfirmUrl(props.sealedUrl);
      } catch {
        throw new PermanentEmailError("The confirmation link cannot be decrypted (was AUTH_SECRET changed?).");
      }
      const details = await portalConfirmDetails(tx, row, props);
      const appUrl = env().APP_URL;
      const email = { appUrl, purpose: props.purpose, url, expiresAt: props.expiresAt, ...details };
      return renderElement(portalConfirmSubject(email), <PortalConfirmEmail {...email} />);
    }
    case "trial-link": {
      const props = parsed.data as TemplateProps["trial-link"];
      if (new Date(props.expiresAt).getTime() <= Date.now()) throw new PermanentEmailError("The trial link expired before it could be sent.");
      let url: string;
      try {
        url = openTrialUrl(props.sealedUrl);
      } catch {
        throw new PermanentEmailError("The trial link cannot be decrypted (was AUTH_SECRET changed?).");
      }
      const [plan] = await tx
        .select({ planName: plans.name, productName: products.name, trialDays: plans.trialDays })
        .from(plans)
        .innerJoin(products, sql`${products.id} = ${plans.productId}`)
        .where(sql`${plans.id} = ${props.planId}`);
      if (!plan) throw new PermanentEmailError("The trial's plan no longer exists.");
      const appUrl = env().APP_URL;
      const view = { productName: plan.productName, planName: plan.planName, trialDays: plan.trialDays ?? 0 };
      return renderElement(trialLinkSubject(view), <TrialLinkEmail appUrl={appUrl} url={url} expiresAt={props.expiresAt} {...view} />);
    }
    case "license-key-rotated": {
      const resolved = await rotatedKeyEmailProps(tx, parsed.data as TemplateProps["license-key-rotated"]);
      if (!resolved.ok) throw new PermanentEmailError(resolved.reason);
      return renderElement(licenseKeyRotatedSubject(resolved.props.productName), <LicenseKeyRotatedEmail {...resolved.props} />);
    }
    case "webhook-disabled": {
      const props = parsed.data as TemplateProps["webhook-disabled"];
      const appUrl = env().APP_URL;
      return renderElement(
        webhookDisabledSubject(props),
        <WebhookDisabledEmail appUrl={appUrl} url={props.url} failingSince={props.failingSince} endpointUrl={`${appUrl}/admin/webhooks/${props.endpointId}`} />,
      );
    }
    default:
      if (isResetTemplate(row.template)) return renderResetEmail(tx, row.template, parsed.data);
      if (isLifecycleTemplate(row.template)) return renderLifecycleEmail(tx, row.template, parsed.data);
      // A template registered in emails/index.ts whose renderer has not been written: nothing to retry.
      throw new PermanentEmailError(`No renderer for the "${row.template}" email.`);
  }
}

/** The facts a confirmation email names (which key; who asked), read at send time. */
async function portalConfirmDetails(tx: DbOrTx, row: OutboxRow, props: TemplateProps["portal-confirm"]) {
  if (props.purpose === "rotate-key" && props.licenseId) {
    const [l] = await tx
      .select({ keyHint: licenses.keyHint, productName: products.name })
      .from(licenses)
      .innerJoin(plans, sql`${plans.id} = ${licenses.planId}`)
      .innerJoin(products, sql`${products.id} = ${plans.productId}`)
      .where(sql`${licenses.id} = ${props.licenseId}`);
    if (!l) throw new PermanentEmailError(`License ${props.licenseId} no longer exists.`);
    return { keyHint: displayHint(l.keyHint), productName: l.productName };
  }
  const [c] = row.customerId
    ? await tx.select({ email: customers.email }).from(customers).where(sql`${customers.id} = ${row.customerId}`)
    : [];
  return { requestedBy: c?.email ?? null };
}

async function resolveIssuedLicenses(tx: DbOrTx, props: TemplateProps["license-issued"]): Promise<IssuedLicense[]> {
  const views = await loadLicenseViews(tx, props.licenseIds);
  const found = new Set(views.map((v) => v.id));
  const missing = props.licenseIds.filter((id) => !found.has(id));
  if (missing.length) throw new PermanentEmailError(`License ${missing.join(", ")} no longer exists.`);

  // The view carries slugs; the email speaks in names, and needs the sealed key.
  const extras = await tx
    .select({
      id: licenses.id,
      keyCiphertext: licenses.keyCiphertext,
      productName: products.name,
      planName: plans.name,
    })
    .from(licenses)
    .innerJoin(plans, sql`${plans.id} = ${licenses.planId}`)
    .innerJoin(products, sql`${products.id} = ${plans.productId}`)
    .where(inArray(licenses.id, props.licenseIds));
  const byId = new Map(extras.map((e) => [e.id, e]));

  return views.map((view) => {
    const extra = byId.get(view.id)!;
    let key: string;
    try {
      key = revealLicenseKey(extra.keyCiphertext);
    } catch {
      // AUTH_SECRET changed since the key was sealed: no retry will ever open it.
      throw new PermanentEmailError(`The key of license ${view.id} cannot be decrypted (was AUTH_SECRET changed?).`);
    }
    return {
      productName: extra.productName,
      planName: extra.planName,
      key,
      seats: view.maxActivations,
      expiresAt: view.expiresAt,
      entitlements: view.entitlements,
    };
  });
}
