import { describe, expect, it } from "vitest";
import { emailProviderOutage, slowFlakyStripe } from "./helpers/faults";

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
