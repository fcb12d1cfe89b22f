import { and, asc, eq, gt, isNotNull, sql, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { emailOutbox, licenses, signingKeys, webhookEndpoints } from "@/server/db/schema";
import type { Db } from "@/server/db/client";
import { openSealed, seal } from "./secret-box";

/**
 * Every value stored sealed with AUTH_SECRET (server/domain/secret-box.ts), in one list: `npm run reseal` walks it
 * after a rotation. A new sealed column is one more line here; its `purpose` must be the one its module seals with.
 */
export type SealedField = {
  /** How the reseal reports it. */
  name: string;
  purpose: string;
  table: PgTable;
  /** A unique, ordered column: the reseal walks the table by it, one batch at a time. */
  id: PgColumn;
  /** The sealed text (null where a row holds none). */
  sealed: SQL;
  /** The update that stores a new sealed value. */
  write: (sealed: string) => Record<string, unknown>;
};

export const SEALED_FIELDS: SealedField[] = [
  {
    name: "licenses.key_ciphertext",
    purpose: "license-key",
    table: licenses,
    id: licenses.id,
    sealed: sql`${licenses.keyCiphertext}`,
    write: (v) => ({ keyCiphertext: v }),
  },
  {
    name: "signing_keys.private_key_ciphertext",
    purpose: "signing-key",
    table: signingKeys,
    id: signingKeys.kid,
    sealed: sql`${signingKeys.privateKeyCiphertext}`,
    write: (v) => ({ privateKeyCiphertext: v }),
  },
  {
    name: "email_outbox.props.sealedUrl",
    purpose: "sign-in-link",
    table: emailOutbox,
    id: emailOutbox.id,
    sealed: sql`case when ${emailOutbox.template} = 'sign-in-link' then ${emailOutbox.props}->>'sealedUrl' end`,
    write: (v) => ({ props: sql`jsonb_set(${emailOutbox.props}, '{sealedUrl}', to_jsonb(${v}::text))` }),
  },
  {
    // Portal confirmation links (server/domain/portal/confirmations.ts): the same column, another purpose.
    name: "email_outbox.props.sealedUrl (portal-confirm)",
    purpose: "portal-confirm-link",
    table: emailOutbox,
    id: emailOutbox.id,
    sealed: sql`case when ${emailOutbox.template} = 'portal-confirm' then ${emailOutbox.props}->>'sealedUrl' end`,
    write: (v) => ({ props: sql`jsonb_set(${emailOutbox.props}, '{sealedUrl}', to_jsonb(${v}::text))` }),
  },
  {
    name: "webhook_endpoints.secret_ciphertext",
    purpose: "webhook-secret",
    table: webhookEndpoints,
    id: webhookEndpoints.id,
    sealed: sql`${webhookEndpoints.secretCiphertext}`,
    write: (v) => ({ secretCiphertext: v }),
  },
  {
    name: "webhook_endpoints.previous_secret_ciphertext",
    purpose: "webhook-secret",
    table: webhookEndpoints,
    id: webhookEndpoints.id,
    sealed: sql`${webhookEndpoints.previousSecretCiphertext}`,
    write: (v) => ({ previousSecretCiphertext: v }),
  },
  {
    name: "email_outbox.props.sealedUrl (trial links)",
    purpose: "trial-link",
    table: emailOutbox,
    id: emailOutbox.id,
    sealed: sql`case when ${emailOutbox.template} = 'trial-link' then ${emailOutbox.props}->>'sealedUrl' end`,
    write: (v) => ({ props: sql`jsonb_set(${emailOutbox.props}, '{sealedUrl}', to_jsonb(${v}::text))` }),
  },
];

export type ResealCounts = { resealed: number; current: number; unreadable: number };

export const RESEAL_BATCH_SIZE = 200;

/**
 * One batch of a field, in one transaction: the next `limit` rows after `after`, locked FOR UPDATE so a change
 * made meanwhile (a key rotated from the admin app) waits instead of being overwritten. A value that opens only with
 * AUTH_SECRET_PREVIOUS is sealed again under AUTH_SECRET; one that already opens with AUTH_SECRET is left alone, so a
 * second run changes nothing.
 */
export async function resealBatch(db: Db, field: SealedField, after: unknown, limit = RESEAL_BATCH_SIZE) {
  return db.transaction(async (tx) => {
    const rows = await tx
      .select({ id: field.id, sealed: field.sealed.mapWith(String) })
      .from(field.table)
      .where(and(isNotNull(field.sealed), after === undefined ? undefined : gt(field.id, after)))
      .orderBy(asc(field.id))
      .limit(limit)
      .for("update");
    const counts: ResealCounts = { resealed: 0, current: 0, unreadable: 0 };
    for (const row of rows) {
      let opened: ReturnType<typeof openSealed>;
      try {
        opened = openSealed(field.purpose, row.sealed);
      } catch {
        opened = { under: "neither" };
      }
      if (opened.under === "current") counts.current++;
      else if (opened.under === "neither") counts.unreadable++;
      else {
        await tx.update(field.table).set(field.write(seal(field.purpose, opened.plaintext))).where(eq(field.id, row.id));
        counts.resealed++;
      }
    }
    return { counts, last: rows.at(-1)?.id, more: rows.length === limit };
  });
}

/** Every row of a field, batch after batch. */
export async function resealField(db: Db, field: SealedField, limit = RESEAL_BATCH_SIZE): Promise<ResealCounts> {
  const total: ResealCounts = { resealed: 0, current: 0, unreadable: 0 };
  let after: unknown = undefined;
  for (;;) {
    const { counts, last, more } = await resealBatch(db, field, after, limit);
    total.resealed += counts.resealed;
    total.current += counts.current;
    total.unreadable += counts.unreadable;
    if (!more) return total;
    after = last;
  }
}
