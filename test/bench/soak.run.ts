// Run by test/bench/soak.ts (`npm run soak`) through vitest, which provides the test database server; not part of
// the CI suite (vitest.config.mts includes *.test.ts only).
import { describe, expect, it } from "vitest";
import { emailProviderOutage, killWorkerMidBurst, slowFlakyStripe, twoWorkersRace } from "../helpers/faults";

const num = (name: string, def: number) => Number(process.env[name] ?? def) || def;
const CHECKOUTS = num("SOAK_CHECKOUTS", 3000);
const figures: Record<string, unknown> = {};
const report = (name: string, f: unknown) => {
  figures[name] = f;
  console.log(`[soak] ${name}: ${JSON.stringify(f)}`);
};

describe("soak", () => {
  it(`kill -9 of the worker mid-burst of ${CHECKOUTS} checkouts`, async () => {
    const f = await killWorkerMidBurst(CHECKOUTS, (l) => console.log(`[soak] ${l}`));
    report("kill-9", f);
    expect(f).toMatchObject({ licenses: CHECKOUTS, licensedSessions: CHECKOUTS, emailsDelivered: CHECKOUTS, notOnce: {} });
  });

  it("email provider down for an hour of moved clock", async () => {
    const f = await emailProviderOutage(num("SOAK_EMAILS", 200), num("SOAK_OUTAGE_MINUTES", 60));
    report("email-outage", f);
    expect(f.notOnce).toEqual({});
  });

  it("Stripe slow (5 s) and failing every other call", async () => {
    const f = await slowFlakyStripe(num("SOAK_SLOW_WEBHOOK", 16), num("SOAK_SLOW_RECONCILE", 8), 5_000);
    report("slow-stripe", f);
    expect(f.licensesWithoutOneEmail).toBe(0);
  });

  it("two workers racing the same events and sweeps", async () => {
    const f = await twoWorkersRace(num("SOAK_RACE_CHECKOUTS", 300), num("SOAK_RACE_EXPIRING", 300), 3, 8);
    report("race", f);
    expect(f.doubled).toEqual({});
  });

  it("prints the figures", () => {
    console.log(`[soak] figures ${JSON.stringify(figures, null, 2)}`);
    expect(Object.keys(figures).length).toBeGreaterThan(0);
  });
});
