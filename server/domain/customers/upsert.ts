import { eq, sql } from "drizzle-orm";
import { customers } from "@/server/db/schema";
import type { DbOrTx } from "@/server/db/client";

export type Customer = typeof customers.$inferSelect;

/**
 * The customer with this email (matched case-insensitively), created if new. Race-safe: two concurrent
 * purchases by the same person meet at the unique index on lower(email) and both get the same row.
 */
export async function upsertCustomerByEmail(
  tx: DbOrTx,
  input: { email: string; name?: string | null; stripeCustomerId?: string | null },
): Promise<Customer> {
  const email = input.email.trim();
  const result = await tx.execute<{ id: string }>(sql`
    insert into ${customers} (email, name, stripe_customer_id)
    values (${email}, ${input.name ?? null}, ${input.stripeCustomerId ?? null})
    on conflict (lower(email)) do update set
      name = coalesce(${customers.name}, excluded.name),
      stripe_customer_id = coalesce(${customers.stripeCustomerId}, excluded.stripe_customer_id)
    returning id`);
  const [row] = await tx.select().from(customers).where(eq(customers.id, result.rows[0]!.id));
  return row!;
}
