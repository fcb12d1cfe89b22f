/**
 * What the session doors (next-auth's routes, the confirm button, tRPC) accept, in one place.
 *
 * Bodies go through the one bounded reader (server/rest/body.ts) before any library sees them. next-auth's
 * forms (an email, a CSRF token, a callback URL) and the confirm button's form (token, email, callbackUrl, each
 * at most 2 KB) are far under 16 KB. tRPC carries the admin app's and the portal's mutations, the biggest a
 * plan with its entitlements and price ids: a few KB; 1 MB leaves room for batches without letting anyone
 * make us hold more.
 */
export const AUTH_MAX_BODY_BYTES = 16 * 1024;
export const TRPC_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Sign-in emails, counted before next-auth runs (next-auth creates the verification token in parallel with
 * sending, so refusing inside sendVerificationRequest would still leave a token behind).
 * - per client address: 10 per 15 minutes. A person needs one or two (a typo, a retry); a script spraying
 *   addresses from one machine is stopped at 10.
 * - per target address: 5 per 15 minutes, so clients at many addresses cannot flood one inbox.
 * - overall: 100 per hour. Sign-ins on a licensing backend are rare (customers come to fetch a key or free a
 *   device; admins a few times a day): even a shop with thousands of customers sees a few dozen an hour. The
 *   ceiling caps what a spray from many addresses can spend of the operator's sending reputation, which takes
 *   far longer to win back than the hour a real person might have to wait once it is reached.
 */
export const SIGN_IN_WINDOW_MS = 15 * 60_000;
export const SIGN_IN_PER_CLIENT = 10;
export const SIGN_IN_PER_ADDRESS = 5;
export const SIGN_IN_OVERALL_WINDOW_MS = 60 * 60_000;
export const SIGN_IN_OVERALL = 100;
