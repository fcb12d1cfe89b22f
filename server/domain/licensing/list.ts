import { and, asc, eq, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { activations, customers, LICENSE_STATUSES, licenses, plans, products } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";
import { storableText } from "@/server/domain/admin/text";
import { now } from "@/server/domain/clock";
import { AppError } from "@/server/domain/errors";
import { effectiveStatusSql, statusBranch, type StatusAlternative } from "./expiry";
import { loadLicenseView, loadLicenseViews, toActivationView, type AdminActivationView, type LicenseWithCustomer } from "./view";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids come from URLs: anything that is not a uuid is simply not found (and never reaches a uuid cast). */
export const isUuid = (id: string) => UUID.test(id);

// Unknown query parameters are ignored (cache busters, tracking), unlike unknown body keys.
export const ListLicensesQuery = z.object({
  /** Case-insensitive exact match on the customer's email. */
  email: storableText(1, 320).optional(),
  status: z.enum(LICENSE_STATUSES).optional(),
  /** Product slug. */
  product: storableText(1, 64).optional(),
  /** Plan slug. */
  plan: storableText(1, 64).optional(),
  /** nextCursor of the previous page. */
  cursor: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListLicensesQuery = z.infer<typeof ListLicensesQuery>;

/**
 * Keyset cursor over (created_at desc, id desc). created_at travels as PostgreSQL's own microsecond text,
 * not a JS Date: rows written with defaultNow() carry microseconds that a millisecond Date would round away,
 * and the page boundary would then skip or repeat rows.
 */
type Cursor = { at: string; id: string };

const CURSOR_AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id])).toString("base64url");
}

function decodeCursor(raw: string): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && parsed.length === 2) {
      const [at, id] = parsed;
      if (typeof at === "string" && CURSOR_AT.test(at) && typeof id === "string" && isUuid(id)) return { at, id };
    }
  } catch {
    /* falls through to the 400 */
  }
  throw new AppError("BAD_REQUEST", "cursor is not valid: pass nextCursor from the previous page unchanged.");
}

/**
 * Licenses, newest first, with their customer; `nextCursor` is null on the last page. The status filter matches
 * the status the rows show (expiry.ts), so "expired" includes licenses that lapsed before the sweep marked them:
 * each alternative of it is one branch, newest first on its own index, and the branches are merged.
 */
export async function listLicenses(
  tx: DbOrTx,
  query: ListLicensesQuery,
): Promise<{ data: LicenseWithCustomer[]; nextCursor: string | null }> {
  const where: SQL[] = [];
  if (query.email) where.push(sql`lower(${customers.email}) = lower(${query.email})`);
  if (query.product) where.push(eq(products.slug, query.product));
  if (query.plan) where.push(eq(plans.slug, query.plan));
  if (query.cursor) {
    const c = decodeCursor(query.cursor);
    where.push(sql`(${licenses.createdAt}, ${licenses.id}) < (${c.at}::timestamptz, ${c.id}::uuid)`);
  }
  const branch = (status?: StatusAlternative) =>
    statusBranch(
      sql`${tx
        .select({ id: licenses.id, createdAt: licenses.createdAt })
        .from(licenses)
        .innerJoin(plans, eq(plans.id, licenses.planId))
        .innerJoin(products, eq(products.id, plans.productId))
        .innerJoin(customers, eq(customers.id, licenses.customerId))
        .where(and(...where, status?.where))}`,
      sql.raw(`created_at desc, id desc`),
      query.limit + 1,
      status,
    );
  const statuses = query.status
    ? effectiveStatusSql(query.status, { status: licenses.status, expiresAt: licenses.expiresAt, graceDays: plans.graceDays }, now())
    : [undefined];
  const { rows } = await tx.execute<{ id: string; at: string }>(sql`
    select m.id, to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
      from (${sql.join(statuses.map(branch), sql` union all `)}) m
     order by m.created_at desc, m.id desc limit ${query.limit + 1}`);

  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: await loadLicenseViews(
      tx,
      page.map((r) => r.id),
    ),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
  };
}

/** One license with its activations (oldest first); 404 for unknown or malformed ids. */
export async function getLicenseWithActivations(
  tx: DbOrTx,
  id: string,
): Promise<{ license: LicenseWithCustomer; activations: AdminActivationView[] }> {
  const license = isUuid(id) ? await loadLicenseView(tx, id) : null;
  if (!license) throw new AppError("NOT_FOUND", "There is no license with that id.");
  const rows = await tx
    .select()
    .from(activations)
    .where(eq(activations.licenseId, id))
    .orderBy(asc(activations.createdAt), asc(activations.id));
  return { license, activations: rows.map(toActivationView) };
}
