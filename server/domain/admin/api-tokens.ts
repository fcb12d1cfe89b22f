import crypto from "node:crypto";
import { and, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { API_TOKEN_SCOPES, apiTokens, type ApiTokenScope } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { isUuid } from "./cursor";
import { storableText } from "./text";
import { sha256Hex } from "@/server/domain/secret-box";
import { env } from "@/server/env";

/**
 * Bearer tokens for the management API. Two kinds:
 * - the bootstrap ADMIN_API_TOKEN setting (actor id "bootstrap"), compared in constant time;
 * - tokens made in the admin app: `ks_` + 32 base62 characters (~190 random bits), stored only as a sha256
 *   with a short display hint, shown once at creation. The prefix versions the format and makes leaked tokens
 *   easy to grep for.
 */
export const API_TOKEN_PREFIX = "ks_";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TOKEN_CHARS = 32;
/** Writing last_used_at on every request would turn each read into a write; a minute is precise enough. */
const LAST_USED_PRECISION_MS = 60_000;

export const BOOTSTRAP_ACTOR: Actor = { type: "api_token", id: "bootstrap" };

export function generateApiToken(): string {
  let out = "";
  while (out.length < TOKEN_CHARS) {
    for (const b of crypto.randomBytes(TOKEN_CHARS)) {
      // 248 = 4 x 62: rejecting the top bytes keeps every character equally likely.
      if (b < 248 && out.length < TOKEN_CHARS) out += BASE62[b % 62];
    }
  }
  return API_TOKEN_PREFIX + out;
}

export const hashApiToken = (token: string) => sha256Hex(`keystead-api-token:${token}`);

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison is constant-time whatever the lengths.
  return crypto.timingSafeEqual(crypto.createHash("sha256").update(a).digest(), crypto.createHash("sha256").update(b).digest());
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | null): string | null {
  const match = header?.match(/^Bearer[ \t]+(\S+)[ \t]*$/i);
  return match ? match[1]! : null;
}

export { API_TOKEN_SCOPES, type ApiTokenScope };

/** Who a bearer token acts as, and what it may do. */
export type ApiPrincipal = { actor: Actor; scopes: readonly ApiTokenScope[]; tokenName: string };

const EVERY_SCOPE: readonly ApiTokenScope[] = API_TOKEN_SCOPES;

/** "admin" holds every scope; any other scope holds only itself (a write scope does not imply read). */
export const grants = (scopes: readonly ApiTokenScope[], needed: ApiTokenScope) =>
  scopes.includes("admin") || scopes.includes(needed);

/**
 * Who this bearer token acts as, or null when it is missing, unknown, revoked or expired: all four answer the
 * same 401, so a caller learns nothing about tokens it does not hold.
 */
export async function authenticateBearer(tx: DbOrTx, token: string | null): Promise<ApiPrincipal | null> {
  if (!token) return null;
  const bootstrap = env().ADMIN_API_TOKEN;
  if (bootstrap && sameSecret(token, bootstrap)) return { actor: BOOTSTRAP_ACTOR, scopes: EVERY_SCOPE, tokenName: "ADMIN_API_TOKEN" };
  if (!token.startsWith(API_TOKEN_PREFIX)) return null;

  // Looking up by hash leaks nothing through timing: an attacker cannot steer sha256 towards a stored hash.
  const [row] = await tx
    .select({ id: apiTokens.id, name: apiTokens.name, scopes: apiTokens.scopes, expiresAt: apiTokens.expiresAt, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashApiToken(token)), isNull(apiTokens.revokedAt)));
  if (!row) return null;
  const at = now();
  if (row.expiresAt && row.expiresAt.getTime() <= at.getTime()) return null;
  if (!row.lastUsedAt || at.getTime() - row.lastUsedAt.getTime() >= LAST_USED_PRECISION_MS) {
    await tx.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, row.id));
  }
  return { actor: { type: "api_token", id: row.id }, scopes: row.scopes, tokenName: row.name };
}

/** The actor of a bearer token, or null (authenticateBearer without the scopes). */
export async function authenticateApiToken(tx: DbOrTx, token: string | null): Promise<Actor | null> {
  return (await authenticateBearer(tx, token))?.actor ?? null;
}

export const ApiTokenScopeInput = z.enum(API_TOKEN_SCOPES);

export const CreateApiTokenInput = z.strictObject({
  name: storableText(1, 100),
  /** At least one; "admin" is every scope. */
  scopes: z.array(ApiTokenScopeInput).min(1).max(API_TOKEN_SCOPES.length).transform((s) => [...new Set(s)]),
  /** ISO-8601 instant in the future; absent or null: the token never expires. */
  expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
});
export type CreateApiTokenInput = z.input<typeof CreateApiTokenInput>;

export type ApiTokenView = {
  id: string;
  name: string;
  scopes: ApiTokenScope[];
  expiresAt: string | null;
  /** "ks_AbCd…": enough to tell tokens apart, useless to an attacker. */
  tokenStart: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toApiTokenView(r: typeof apiTokens.$inferSelect): ApiTokenView {
  return {
    id: r.id,
    name: r.name,
    scopes: r.scopes,
    expiresAt: iso(r.expiresAt),
    tokenStart: r.tokenStart,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    lastUsedAt: iso(r.lastUsedAt),
    revokedAt: iso(r.revokedAt),
  };
}

/**
 * Makes a token. The plain token (`secret`) is in the answer and nowhere else, ever: show it once. The answer is
 * the contract's `{ token: { id, name, scopes, expiresAt, ... }, secret }`.
 */
export async function createApiToken(tx: DbOrTx, actor: Actor, rawInput: CreateApiTokenInput) {
  const input = CreateApiTokenInput.parse(rawInput);
  const at = now();
  const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
  if (expiresAt && expiresAt.getTime() <= at.getTime()) {
    throw new AppError("BAD_REQUEST", "expiresAt is in the past: give a future instant, or none for a token that never expires.");
  }
  const secret = generateApiToken();
  const [row] = await tx
    .insert(apiTokens)
    .values({
      name: input.name,
      tokenHash: hashApiToken(secret),
      tokenStart: secret.slice(0, API_TOKEN_PREFIX.length + 4),
      scopes: input.scopes,
      expiresAt,
      createdBy: actor.id,
      createdAt: at,
    })
    .returning();
  const view = toApiTokenView(row!);
  await recordAudit(tx, actor, { action: "api_token.created", subjectType: "api_token", subjectId: row!.id, after: view });
  return { token: view, secret };
}

export async function revokeApiToken(tx: DbOrTx, actor: Actor, id: string): Promise<ApiTokenView> {
  if (!isUuid(id)) throw new AppError("NOT_FOUND", "There is no active API token with that id.");
  const [row] = await tx
    .update(apiTokens)
    .set({ revokedAt: now() })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning();
  if (!row) throw new AppError("NOT_FOUND", "There is no active API token with that id.");
  const view = toApiTokenView(row);
  await recordAudit(tx, actor, { action: "api_token.revoked", subjectType: "api_token", subjectId: id, after: view });
  return view;
}

export async function listApiTokens(tx: DbOrTx): Promise<ApiTokenView[]> {
  const rows = await tx.select().from(apiTokens).orderBy(desc(apiTokens.createdAt));
  return rows.map(toApiTokenView);
}
