import type { DbOrTx } from "@/server/db/client";
import { queueEmail } from "@/server/domain/mail/queue";
import { open, seal, sha256Hex } from "@/server/domain/secret-box";

/**
 * The email sign-in link travels through the same outbox and worker as every other email (so in dev it lands
 * in the dev mailbox, in tests at the SMTP catcher). The link is a bearer secret, so the outbox row stores it
 * sealed with a key derived from AUTH_SECRET; only the send job opens it. Rebuilding it from a stored token
 * id is not possible: next-auth keeps only a hash of the token.
 */
const PURPOSE = "sign-in-link";

export async function queueSignInLink(db: DbOrTx, input: { to: string; url: string; token: string; expires: Date }) {
  return queueEmail(db, {
    // One email per link: a retried request for the same token collapses; a new request is a new token.
    dedupeKey: `sign-in-link:${sha256Hex(input.token)}`,
    template: "sign-in-link",
    to: input.to,
    props: { sealedUrl: seal(PURPOSE, input.url), expiresAt: input.expires.toISOString() },
  });
}

/** The link back in clear; throws if it was sealed under another AUTH_SECRET. */
export function openSignInUrl(sealedUrl: string): string {
  return open(PURPOSE, sealedUrl).toString("utf8");
}
