import { rateLimits, type RateLimitResult } from "@/server/rest/rate-limit";
import {
  SIGN_IN_OVERALL,
  SIGN_IN_OVERALL_WINDOW_MS,
  SIGN_IN_PER_ADDRESS,
  SIGN_IN_PER_CLIENT,
  SIGN_IN_WINDOW_MS,
} from "./limits";

/**
 * Whether a request for a sign-in email may reach next-auth (limits and their reasons: ./limits.ts). The
 * checks run in order and stop at the first refusal, so a refused client uses up neither the target
 * address's allowance nor the overall one. Nothing here depends on whether the address has an account:
 * every caller gets the same answer for a known and an unknown address. The counts live where every other
 * rate limit does (server/rest/rate-limit.ts): in Redis across replicas when REDIS_URL is set.
 */

/** next-auth's own normalization of the address (lower case, NFKC, trimmed), so spellings count as one. */
const normalizeAddress = (email: string) => email.normalize("NFKC").trim().toLowerCase();

export async function allowSignInEmail(clientAddress: string, email: string | null): Promise<RateLimitResult> {
  const limits = rateLimits();
  const byClient = await limits.hit(`sign-in:client:${clientAddress}`, SIGN_IN_PER_CLIENT, SIGN_IN_WINDOW_MS);
  if (!byClient.ok) return byClient;
  if (email) {
    const byAddress = await limits.hit(`sign-in:address:${normalizeAddress(email)}`, SIGN_IN_PER_ADDRESS, SIGN_IN_WINDOW_MS);
    if (!byAddress.ok) return byAddress;
  }
  return limits.hit("sign-in:overall", SIGN_IN_OVERALL, SIGN_IN_OVERALL_WINDOW_MS);
}
