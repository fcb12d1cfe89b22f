import { describe, expect, it } from "vitest";
import { emailProviderOutage, slowFlakyStripe, twoWorkersRace } from "./helpers/faults";

/**
 * Faults, bounded for CI (`npm run soak` runs the same scenarios bigger and prints the figures).
 */
describe("faults", () => {
  it("the email provider down for an hour (moved clock): mails wait, then go out once each", async () => {
    const f = await emailProviderOutage(20, 60);
    console.log(`[email-outage] ${JSON.stringify(f)}`);
    expect(f.attemptsDuringOutage).toBeGreaterThanOrEqual(20 * 5);
    expect(f).toMatchObject({ delivered: 20, notOnce: {}, failedForGood: 0 });
    // Nothing went out during the outage, and everything did after it.
    expect(f.sentAtMinute.first).toBeGreaterThanOrEqual(60);
  }, 180_000);

  it("Stripe slow (5 s a call) and failing every other call: everything converges, nothing half-written", async () => {
    const f = await slowFlakyStripe(4, 2, 5_000);
    console.log(`[slow-stripe] ${JSON.stringify(f)}`);
    expect(f.stripeFailures).toBeGreaterThan(0);
    expect(f).toMatchObject({ licenses: 6, licensedSessions: 6, licensesWithoutOneEmail: 0, eventsNotProcessed: 0, emailsSent: 6 });
  }, 300_000);
});

describe("two workers racing", () => {
  it("the same events and the same sweeps: nothing happens twice", async () => {
    const f = await twoWorkersRace(40, 30, 2, 4);
    console.log(`[race] ${JSON.stringify(f)}`);
    expect(f).toMatchObject({
      licenses: 40 + 30,
      licensedSessions: 40,
      expired: 30,
      expiredAuditRows: 30,
      expiredEmails: 30,
      doubled: {},
    });
    // Each checkout's key email, each lapsed license's expiry email (and what the admin path sent), once each.
    expect(f.expectedMails).toBeGreaterThanOrEqual(40 + 30);
    expect(f.emailsSent).toBe(f.expectedMails);
    expect(f.smtpMessages).toBe(f.expectedMails);
    expect(f.jobsPerWorker.every((j) => j > 0)).toBe(true);
  }, 240_000);
});
