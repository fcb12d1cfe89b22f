import type { Adapter, AdapterSession } from "next-auth/adapters";
import { sha256Hex } from "@/server/domain/secret-box";

/**
 * What `sessions.session_token` stores for a session cookie. The cookie is a bearer credential, so the table holds
 * only its hash: a dump, a replica or a backup of the database signs no one in. A plain sha256 is enough because
 * next-auth's tokens are random UUIDs (122 bits) no one can guess their way back from; it is deliberately not keyed
 * with AUTH_SECRET, so rotating the secret signs no one out.
 */
export const hashSessionToken = (token: string) => sha256Hex(`keystead-session:${token}`);

/**
 * next-auth's adapter with its session methods looking rows up by `hashSessionToken`, while next-auth itself keeps
 * seeing (and setting in the cookie) the token in clear. Verification tokens need nothing: next-auth already stores
 * only sha256(token + AUTH_SECRET).
 */
export function withHashedSessions(adapter: Adapter): Adapter {
  const { createSession, getSessionAndUser, updateSession, deleteSession } = adapter;
  if (!createSession || !getSessionAndUser || !updateSession || !deleteSession) {
    throw new Error("withHashedSessions needs an adapter with database sessions");
  }
  const inClear = <T extends AdapterSession | null | undefined>(session: T, token: string): T =>
    session ? { ...session, sessionToken: token } : session;
  return {
    ...adapter,
    async createSession(session) {
      return inClear(await createSession({ ...session, sessionToken: hashSessionToken(session.sessionToken) }), session.sessionToken);
    },
    async getSessionAndUser(token) {
      const found = await getSessionAndUser(hashSessionToken(token));
      return found && { ...found, session: inClear(found.session, token) };
    },
    async updateSession(session) {
      return inClear(await updateSession({ ...session, sessionToken: hashSessionToken(session.sessionToken) }), session.sessionToken);
    },
    async deleteSession(token) {
      const deleted = await deleteSession(hashSessionToken(token));
      return deleted ? inClear(deleted, token) : null;
    },
  };
}
