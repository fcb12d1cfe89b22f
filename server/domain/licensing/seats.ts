import { and, asc, desc, eq, notInArray } from "drizzle-orm";
import { activations } from "@/server/db/schema";
import type { Tx } from "@/server/db/client";

/**
 * The one rule for seats lowered below the machines already activated, whichever door lowers them (a Stripe
 * downgrade or quantity decrease, an admin's change of seats or of plan): the most recently seen machines keep
 * their seats and the rest are removed, in the transaction that writes the new seat count (the caller holds the
 * license row's lock). Nobody is refused: Stripe's decrease is a fact already billed, and an admin lowering seats
 * means the same thing. Seats are what the customer pays for; the machines not seen lately are the likeliest to
 * be retired, and any of them can activate again once a seat is free. Their offline tokens run out on their own.
 * Ties on last seen go to the newer activation, then by id, so the choice never depends on the query plan.
 */
export async function fitActivationsToSeats(tx: Tx, licenseId: string, seats: number) {
  const keep = tx
    .select({ id: activations.id })
    .from(activations)
    .where(eq(activations.licenseId, licenseId))
    .orderBy(desc(activations.lastSeenAt), desc(activations.createdAt), asc(activations.id))
    .limit(seats);
  return tx
    .delete(activations)
    .where(and(eq(activations.licenseId, licenseId), notInArray(activations.id, keep)))
    .returning(removedColumns);
}

/** What a removed activation's audit row and its activation.deleted webhook need. */
export const removedColumns = {
  id: activations.id,
  fingerprint: activations.fingerprint,
  name: activations.name,
  platform: activations.platform,
  createdAt: activations.createdAt,
  lastSeenAt: activations.lastSeenAt,
};

/** Audit metadata for the machines a seat decrease removed (none: nothing to add). */
export const removedMetadata = (removed: { fingerprint: string }[]) =>
  removed.length ? { removedActivations: removed.length, fingerprints: removed.map((a) => a.fingerprint).sort() } : undefined;

/**
 * Every machine removed ("reset all devices"): the same delete as a seat decrease to zero, so whatever follows a
 * removed activation (its audit, its outgoing "activation.deleted" event) follows here too.
 */
export const removeAllActivations = (tx: Tx, licenseId: string) => fitActivationsToSeats(tx, licenseId, 0);
