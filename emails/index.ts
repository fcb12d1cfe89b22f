/**
 * The registry of emails Keystead sends: template name -> the props its outbox row stores.
 * Props hold ids and facts only; `server/domain/mail` resolves them (and decrypts keys) at send time.
 */
export type TemplateProps = {
  "license-issued": {
    licenseIds: string[];
    /** Set when the licenses came from one Stripe checkout. */
    checkoutSessionId?: string | null;
  };
};

export type TemplateName = keyof TemplateProps;
