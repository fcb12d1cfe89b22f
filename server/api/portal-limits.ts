import { limit } from "@/server/rest/handler";

/**
 * The portal's own rate limits, beyond the per-address limit every request meets. Each throws RATE_LIMITED (429,
 * with Retry-After) once over; counts are shared across replicas when REDIS_URL is set.
 */

/** Resets and manual-reset requests a minute, per client address and per customer. */
const RESETS_PER_ADDRESS = 60;
const RESETS_PER_CUSTOMER = 5;

/**
 * Device resets and manual-reset requests, per customer and per address (beyond the cooldown, which only
 * counts successful resets): a script cannot hammer the license lock or the operators' inbox.
 */
export async function limitPortalResets(kind: "reset" | "reset-request", customerId: string | null, address: string) {
  await limit(`portal-${kind}:ip:${address}`, RESETS_PER_ADDRESS);
  if (customerId) await limit(`portal-${kind}:customer:${customerId}`, RESETS_PER_CUSTOMER);
}

/** Requests that send an email, a minute, per signed-in customer and per address emailed. */
const EMAILS_PER_MINUTE = 3;

/**
 * Requests that send an emailed link (key replacement, another address): limited per signed-in address and, when
 * the link goes to another address, per that address too, so a portal session cannot be turned into a mail cannon
 * aimed at someone's inbox.
 */
export async function limitPortalEmails(signedInEmail: string, toEmail?: string) {
  await limit(`portal-request:${signedInEmail.toLowerCase()}`, EMAILS_PER_MINUTE);
  if (toEmail !== undefined) await limit(`portal-email-link:${toEmail.toLowerCase()}`, EMAILS_PER_MINUTE);
}
