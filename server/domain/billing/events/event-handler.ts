import type Stripe from "stripe";
import type { Tx } from "@/server/db/client";
import type { Actor } from "@/server/domain/audit/record";

/** What processing an event did, stored on the event row for the admin. */
export type Settlement = { status: "processed" | "ignored"; result: Record<string, unknown> };

/**
 * How one kind of event is processed: `read` asks the Stripe API for the objects the event points at (outside
 * any transaction), `apply` writes what they say in the transaction that also settles the event.
 */
export type EventHandler<S> = {
  /** Id prefixes the event's data.object may have (an event naming anything else is refused). */
  objectPrefixes: string[];
  read: (stripe: Stripe, objectId: string) => Promise<S>;
  apply: (tx: Tx, actor: Actor, snapshot: S) => Promise<Settlement>;
};

export const handler = <S>(h: EventHandler<S>) => h;
