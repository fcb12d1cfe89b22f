import { and, desc, eq, inArray, lt, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { ACTOR_TYPES, apiTokens, auditLog, type ActorType } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import type { Actor } from "@/server/domain/audit/record";
import { CursorInput, decodeCursor, isPositiveInt, isUuid, LimitInput, page } from "./cursor";
import { storableText } from "./text";

/** Who acts in the admin app: the signed-in admin, named by email in every audit row they cause. */
export const adminActor = (email: string): Actor => ({ type: "admin", id: email });

/** The subject types the audit page offers as filters (the filter itself takes any type). */
export const AUDIT_SUBJECT_TYPES = [
  "license",
  "product",
  "plan",
  "customer",
  "activation",
  "signing_key",
  "api_token",
  "email",
  "stripe_event",
  "webhook",
  "release",
] as const;

export const ListAuditInput = z.object({
  actorType: z.enum(ACTOR_TYPES).optional(),
  /** Admin email, API token id, customer id or Stripe event id (exact). */
  actorId: storableText(1, 320).optional(),
  /** Exact action ("license.revoked") or a family ending in a dot ("license."). */
  action: storableText(1, 100).optional(),
  subjectType: storableText(1, 50).optional(),
  subjectId: storableText(1, 255).optional(),
  cursor: CursorInput.optional(),
  limit: LimitInput(200, 50),
});
export type ListAuditInput = z.input<typeof ListAuditInput>;

export type AuditEntryView = {
  id: number;
  at: string;
  /** `name`: a token's name, for actors that are API tokens made in the app (listAudit fills it in). */
  actor: { type: ActorType; id: string | null; name?: string | null };
  action: string;
  subject: { type: string; id: string };
  before: unknown;
  after: unknown;
  metadata: Record<string, unknown> | null;
};

export function toAuditEntry(r: typeof auditLog.$inferSelect): AuditEntryView {
  return {
    id: r.id,
    at: r.at.toISOString(),
    actor: { type: r.actorType, id: r.actorId },
    action: r.action,
    subject: { type: r.subjectType, id: r.subjectId },
    before: r.before,
    after: r.after,
    metadata: r.metadata ?? null,
  };
}

/**
 * The audit log, newest first. The id is the keyset (a bigserial grows with every row); each filter has an
 * index that leads with it and ends with id (actor, action, subject), so a filtered page is one index range.
 */
export async function listAudit(tx: DbOrTx, rawInput: ListAuditInput) {
  const input = ListAuditInput.parse(rawInput);
  const where: SQL[] = [];
  if (input.actorType) where.push(eq(auditLog.actorType, input.actorType));
  if (input.actorId) where.push(eq(auditLog.actorId, input.actorId));
  if (input.action) {
    where.push(input.action.endsWith(".") ? sql`starts_with(${auditLog.action}, ${input.action})` : eq(auditLog.action, input.action));
  }
  if (input.subjectType) where.push(eq(auditLog.subjectType, input.subjectType));
  if (input.subjectId) where.push(eq(auditLog.subjectId, input.subjectId));
  if (input.cursor) {
    const [last] = decodeCursor(input.cursor, [isPositiveInt]);
    where.push(lt(auditLog.id, last as number));
  }
  const rows = await tx
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(input.limit + 1);
  const { data, nextCursor } = page(rows, input.limit, (r) => [r.id]);
  // Tokens are named where they act: one lookup for the page's token ids (revoked tokens keep their name).
  const tokenIds = [...new Set(data.filter((r) => r.actorType === "api_token" && isUuid(r.actorId)).map((r) => r.actorId!))];
  const names = new Map(
    tokenIds.length
      ? (await tx.select({ id: apiTokens.id, name: apiTokens.name }).from(apiTokens).where(inArray(apiTokens.id, tokenIds))).map((t) => [t.id, t.name])
      : [],
  );
  return {
    data: data.map((r) => {
      const entry = toAuditEntry(r);
      if (r.actorType === "api_token") entry.actor.name = r.actorId === "bootstrap" ? "ADMIN_API_TOKEN" : (names.get(r.actorId ?? "") ?? null);
      return entry;
    }),
    nextCursor,
  };
}
