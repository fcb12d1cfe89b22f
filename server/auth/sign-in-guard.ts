import { RateLimiter, type RateLimitResult } from "@/server/rest/rate-limit";
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
 * every caller gets the same answer for a known and an unknown address.
 */
type Limiters = { window: RateLimiter; overall: RateLimiter };

// On globalThis: each route is bundled on its own, and the counts must be the process's, not one bundle's.
const holder = globalThis as unknown as { __keysteadSignInLimiters?: Limiters };
function limiters(): Limiters {
  holder.__keysteadSignInLimiters ??= {
    window: new RateLimiter(Date.now, SIGN_IN_WINDOW_MS),
    overall: new RateLimiter(Date.now, SIGN_IN_OVERALL_WINDOW_MS),
  };
  return holder.__keysteadSignInLimiters;
}

/** next-auth's own normalization of the address (lower case, NFKC, trimmed), so spellings count as one. */
const normalizeAddress = (email: string) => email.normalize("NFKC").trim().toLowerCase();

export function allowSignInEmail(clientAddress: string, email: string | null): RateLimitResult {
  const { window, overall } = limiters();
  const byClient = window.hit(`client:${clientAddress}`, SIGN_IN_PER_CLIENT);
  if (!byClient.ok) return byClient;
  if (email) {
    const byAddress = window.hit(`address:${normalizeAddress(email)}`, SIGN_IN_PER_ADDRESS);
    if (!byAddress.ok) return byAddress;
  }
  return overall.hit("overall", SIGN_IN_OVERALL);
}
