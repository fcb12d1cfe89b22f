import { DrizzleAdapter } from "@auth/drizzle-adapter";
import type { NextAuthOptions } from "next-auth";
import type { Adapter } from "next-auth/adapters";
import EmailProvider from "next-auth/providers/email";
import { accounts, sessions, users, verificationTokens } from "@/server/db/schema";
import { db } from "@/server/db/client";
import { authSecret, env } from "@/server/env";
import { withHashedSessions } from "./hashed-adapter";
import { useSecureCookies } from "./session";
import { confirmPageUrl, queueSignInLink } from "./sign-in-link";

/** How long an emailed sign-in link works. */
export const SIGN_IN_LINK_MAX_AGE_SECONDS = 60 * 60;

/**
 * next-auth 4 with email magic links and database sessions (Drizzle adapter). Built per request from the
 * parsed settings, so nothing about the deployment is frozen at build time.
 *
 * next-auth reads its public URL from process.env.NEXTAUTH_URL at each request (utils/detect-origin): our
 * APP_URL is that URL, so it is copied there before next-auth runs. Its secret is AUTH_SECRET.
 */
export function authOptions(): NextAuthOptions {
  const settings = env();
  process.env.NEXTAUTH_URL = settings.APP_URL;
  return {
    secret: authSecret(),
    // @auth/drizzle-adapter speaks @auth/core's Adapter type; next-auth 4's is the same shape under another name.
    adapter: withHashedSessions(
      DrizzleAdapter(db(), {
        usersTable: users,
        accountsTable: accounts,
        sessionsTable: sessions,
        verificationTokensTable: verificationTokens,
      }) as Adapter,
    ),
    session: { strategy: "database", maxAge: 30 * 24 * 60 * 60, updateAge: 24 * 60 * 60 },
    useSecureCookies: useSecureCookies(settings.APP_URL),
    providers: [
      EmailProvider({
        from: settings.EMAIL_FROM,
        maxAge: SIGN_IN_LINK_MAX_AGE_SECONDS,
        // Anyone with an email may sign in: customers see their own licenses, ADMIN_EMAILS also the admin app.
        // The link goes through our outbox and worker like every other email. How many may be sent is decided
        // before next-auth runs (app/api/auth/[...nextauth]/route.ts), since it creates the token meanwhile.
        async sendVerificationRequest({ identifier, url, token, expires }) {
          const link = confirmPageUrl(url);
          await db().transaction((tx) => queueSignInLink(tx, { to: identifier, url: link, token, expires }));
        },
      }),
    ],
    pages: { signIn: "/signin", verifyRequest: "/signin/check-email", error: "/signin" },
  };
}
