import crypto from "node:crypto";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter, createCaller } from "@/server/api/root";
import type { AppSession, TRPCContext } from "@/server/api/trpc";
import { createTestDatabase, type TestDb } from "./helpers/db";

/**
 * Every procedure of the app router, found by walking the router (not a hand-kept list), must refuse the
 * wrong caller: an admin procedure refuses an anonymous caller (UNAUTHORIZED) and a signed-in non-admin
 * (FORBIDDEN); a portal procedure refuses an anonymous caller. A new router whose procedures forget
 * adminProcedure fails here without anyone remembering to add a test.
 */

/** Procedures a signed-in customer may call: the portal. Everything not listed here is treated as admin-only. */
const CUSTOMER_PREFIXES = ["portal."];
/** Developer tools: guarded by devProcedure (no email provider and not production), not by sign-in. */
const DEV_PREFIXES = ["dev."];

type Kind = "admin" | "customer" | "dev";
const kindOf = (path: string): Kind =>
  CUSTOMER_PREFIXES.some((p) => path.startsWith(p)) ? "customer" : DEV_PREFIXES.some((p) => path.startsWith(p)) ? "dev" : "admin";

type AnyProcedure = { _def: { type: "query" | "mutation" | "subscription" } };
// At run time _def.procedures is flat: dotted path -> procedure (its static type is the nested record).
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyProcedure>).map(([path, p]) => ({
  path,
  type: p._def.type,
  kind: kindOf(path),
}));

let database: TestDb;
beforeAll(async () => {
  database = await createTestDatabase("authz");
});
afterAll(async () => {
  await database?.drop();
});

const context = (session: AppSession | null): TRPCContext => ({ db: database.db, session, headers: new Headers() });
const person = (isAdmin: boolean): AppSession => ({
  user: { id: crypto.randomUUID(), email: `${isAdmin ? "admin" : "someone"}@example.com`, isAdmin },
  customerId: null,
});

/** Calls a procedure by its dotted path through a server-side caller, with an input that is deliberately junk. */
async function call(session: AppSession | null, path: string, input: unknown = undefined): Promise<unknown> {
  let target: any = createCaller(context(session));
  for (const part of path.split(".")) target = target[part];
  return target(input);
}

async function errorCode(session: AppSession | null, path: string): Promise<string | null> {
  try {
    await call(session, path);
    return null;
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
}

describe("the procedure list", () => {
  it("is found by walking the router, and the known areas are in it", () => {
    const paths = procedures.map((p) => p.path);
    expect(paths.length).toBeGreaterThan(5);
    expect(paths).toEqual(expect.arrayContaining(["portal.licenses", "portal.deactivate", "dashboard.summary", "dashboard.setup"]));
    // The allow-lists must name real procedures, or they silently stop meaning anything.
    for (const prefix of [...CUSTOMER_PREFIXES, ...DEV_PREFIXES]) {
      expect(paths.some((p) => p.startsWith(prefix)), `no procedure under ${prefix}`).toBe(true);
    }
  });
});

describe.each(procedures.filter((p) => p.kind === "admin"))("admin procedure $path ($type)", ({ path }) => {
  it("refuses an anonymous caller with UNAUTHORIZED", async () => {
    expect(await errorCode(null, path)).toBe("UNAUTHORIZED");
  });
  it("refuses a signed-in non-admin with FORBIDDEN", async () => {
    expect(await errorCode(person(false), path)).toBe("FORBIDDEN");
  });
  it("refuses a non-admin who is also a customer with FORBIDDEN", async () => {
    expect(await errorCode({ ...person(false), customerId: crypto.randomUUID() }, path)).toBe("FORBIDDEN");
  });
});

describe.each(procedures.filter((p) => p.kind === "customer"))("portal procedure $path ($type)", ({ path }) => {
  it("refuses an anonymous caller with UNAUTHORIZED", async () => {
    expect(await errorCode(null, path)).toBe("UNAUTHORIZED");
  });
});

describe("the guard lets the right caller through", () => {
  // Without this, a procedure that refused everyone (or a broken test) would pass the checks above.
  it.each(procedures.filter((p) => p.kind === "admin" && p.type === "query"))("an admin reaches $path", async ({ path }) => {
    const code = await errorCode(person(true), path);
    expect(code === "UNAUTHORIZED" || code === "FORBIDDEN", `${path} answered ${code}`).toBe(false);
  });
  it("a signed-in customer reaches the portal", async () => {
    await expect(call(person(false), "portal.licenses")).resolves.toEqual([]);
    await expect(call(person(false), "portal.me")).resolves.toMatchObject({ hasCustomer: false });
  });
});
