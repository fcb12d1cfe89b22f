import { eq } from "drizzle-orm";
import type { TemplateProps } from "@/emails";
import { DevicesResetEmail, devicesResetSubject } from "@/emails/devices-reset";
import { ResetRequestedEmail, resetRequestedSubject } from "@/emails/reset-requested";
import { licenses, plans, products } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { loadResetRequest } from "@/server/domain/licensing/reset-requests";
import { resetWindow } from "@/server/domain/licensing/self-reset";
import { now } from "@/server/domain/clock";
import { env } from "@/server/env";
import { PermanentEmailError, renderElement, type RenderedEmail } from "./rendered";

/** Renderers of the two device-reset emails; like the others they read the license at send time (never the key). */
export const RESET_TEMPLATES = ["reset-requested", "devices-reset"] as const;
export type ResetTemplate = (typeof RESET_TEMPLATES)[number];
export const isResetTemplate = (name: string): name is ResetTemplate => (RESET_TEMPLATES as readonly string[]).includes(name);

async function facts(tx: DbOrTx, licenseId: string) {
  const [row] = await tx
    .select({
      keyHint: licenses.keyHint,
      seats: licenses.maxActivations,
      expiresAt: licenses.expiresAt,
      lastResetAt: licenses.lastResetAt,
      cooldownDays: plans.resetCooldownDays,
      planName: plans.name,
      entitlements: plans.entitlements,
      productName: products.name,
    })
    .from(licenses)
    .innerJoin(plans, eq(plans.id, licenses.planId))
    .innerJoin(products, eq(products.id, plans.productId))
    .where(eq(licenses.id, licenseId));
  if (!row) throw new PermanentEmailError(`License ${licenseId} no longer exists.`);
  return {
    row,
    license: {
      productName: row.productName,
      planName: row.planName,
      keyHint: row.keyHint,
      seats: row.seats,
      expiresAt: row.expiresAt ? row.expiresAt.toISOString() : null,
      entitlements: row.entitlements,
    },
  };
}

export async function renderResetEmail(tx: DbOrTx, template: ResetTemplate, rawProps: unknown): Promise<RenderedEmail> {
  const appUrl = env().APP_URL;
  if (template === "reset-requested") {
    const props = rawProps as TemplateProps["reset-requested"];
    const req = await loadResetRequest(tx, props.requestId);
    if (!req) throw new PermanentEmailError(`Reset request ${props.requestId} no longer exists.`);
    const { row, license } = await facts(tx, req.licenseId);
    const w = resetWindow(row.lastResetAt, row.cooldownDays, now());
    const p = {
      appUrl,
      license,
      licenseId: req.licenseId,
      customerEmail: req.customerEmail,
      lastResetAt: req.lastResetAt,
      nextAllowedAt: w.nextAllowedAt?.toISOString() ?? null,
      devices: req.devices,
      message: req.message,
    };
    return renderElement(resetRequestedSubject(p), <ResetRequestedEmail {...p} />);
  }
  const props = rawProps as TemplateProps["devices-reset"];
  const { license } = await facts(tx, props.licenseId);
  const p = { appUrl, license, removed: props.removed };
  return renderElement(devicesResetSubject(p), <DevicesResetEmail {...p} />);
}
