import { z } from "zod";

/**
 * The registry of emails Keystead sends: template name -> the props its outbox row stores.
 * Props hold ids and facts only, never secrets; `server/domain/mail/render.tsx` resolves them (and decrypts
 * keys) at send time, so a key never sits in the outbox.
 */
export const TemplatePropsSchemas = {
  "license-issued": z.object({
    licenseIds: z.array(z.uuid()).min(1),
    /** Set when the licenses came from one Stripe checkout. */
    checkoutSessionId: z.string().nullish(),
  }),
} as const;

export type TemplateName = keyof typeof TemplatePropsSchemas;
export type TemplateProps = { [K in TemplateName]: z.infer<(typeof TemplatePropsSchemas)[K]> };

export const isTemplateName = (name: string): name is TemplateName => Object.hasOwn(TemplatePropsSchemas, name);
