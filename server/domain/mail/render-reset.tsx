import type { TemplateProps } from "@/emails";
import { DevicesResetEmail, devicesResetSubject } from "@/emails/devices-reset";
import { ResetRequestedEmail, resetRequestedSubject } from "@/emails/reset-requested";
import type { DbOrTx } from "@/server/db/client";
import { loadResetRequest } from "@/server/domain/licensing/reset-requests";
import { resetWindow } from "@/server/domain/licensing/self-reset";
import { now } from "@/server/domain/clock";
import { env } from "@/server/env";
import { loadLicenseForEmail } from "./license-for-email";
import { PermanentEmailError, renderElement, type RenderedEmail } from "./rendered";

/** Renderers of the two device-reset emails; like the others they read the license at send time (never the key). */
export const RESET_TEMPLATES = ["reset-requested", "devices-reset"] as const;
export type ResetTemplate = (typeof RESET_TEMPLATES)[number];
export const isResetTemplate = (name: string): name is ResetTemplate => (RESET_TEMPLATES as readonly string[]).includes(name);

export async function renderResetEmail(tx: DbOrTx, template: ResetTemplate, rawProps: unknown): Promise<RenderedEmail> {
  const appUrl = env().APP_URL;
  if (template === "reset-requested") {
    const props = rawProps as TemplateProps["reset-requested"];
    const req = await loadResetRequest(tx, props.requestId);
    if (!req) throw new PermanentEmailError(`Reset request ${props.requestId} no longer exists.`);
    const loaded = await loadLicenseForEmail(tx, req.licenseId);
    const license = loaded.facts;
    const w = resetWindow(loaded.lastResetAt, loaded.resetCooldownDays, now());
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
  const license = (await loadLicenseForEmail(tx, props.licenseId)).facts;
  const p = { appUrl, license, removed: props.removed };
  return renderElement(devicesResetSubject(p), <DevicesResetEmail {...p} />);
}
