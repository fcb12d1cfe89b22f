/** Where to go after signing in. Only paths on this site: anything else (//evil.example, https://…) is ignored. */
export const DEFAULT_AFTER_SIGN_IN = "/signin/continue";

export function safeCallbackPath(value: string | string[] | undefined | null): string {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v || !v.startsWith("/") || v.startsWith("//") || v.startsWith("/\\")) return DEFAULT_AFTER_SIGN_IN;
  // Never back to a sign-in page (a loop after signing in).
  if (v === "/signin" || v.startsWith("/signin?") || v.startsWith("/api/auth")) return DEFAULT_AFTER_SIGN_IN;
  return v;
}

/** next-auth's error codes, in words. */
export function signInErrorMessage(code: string | null | undefined): string | null {
  switch (code) {
    case undefined:
    case null:
    case "":
      return null;
    case "Verification":
      return "That sign-in link has expired or was already used. Ask for a new one below.";
    case "EmailSignin":
      return "We could not send the sign-in email. Check the address, wait a minute and try again.";
    case "RateLimited":
      return "Too many sign-in links were asked for. Wait a few minutes, then try again.";
    case "AccessDenied":
      return "This email address may not sign in.";
    case "SessionRequired":
      return "Please sign in to see that page.";
    case "Configuration":
      return "Sign-in is not configured correctly on this server. The operator should check its log.";
    default:
      return "Signing in did not work. Please try again.";
  }
}
