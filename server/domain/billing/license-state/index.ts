// A Stripe-sold license's state: derived from Stripe's facts (derive.ts), applied to the license row in the
// caller's transaction (apply.ts), with the emails the change owes (emails.ts). Callers outside import from here.
export { REASONS, deriveLicenseState, loadBillingFacts, type BillingSubject, type DerivedLicenseState } from "./derive";
export { initialColumns, recordLanding, syncLicenses, type LicenseSync } from "./apply";
