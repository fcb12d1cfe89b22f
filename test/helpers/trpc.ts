import crypto from "node:crypto";
import { TRPCError } from "@trpc/server";
import type { AppSession } from "@/server/api/trpc";

/** A signed-in admin as the tRPC context sees one. */
export const adminSession = (email: string): AppSession => ({
  user: { id: crypto.randomUUID(), email, isAdmin: true },
  customerId: null,
});

/** The public error code a failing procedure call carries (the AppError's code, else tRPC's own). */
export async function appCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return (err.cause as { code?: string } | undefined)?.code ?? err.code;
    throw err;
  }
  throw new Error("expected the call to fail");
}
