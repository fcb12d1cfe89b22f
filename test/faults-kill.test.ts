import { describe, expect, it } from "vitest";
import { killWorkerMidBurst } from "./helpers/faults";

/**
 * kill -9 of the worker process in the middle of a burst of checkouts (README "Scaling out", faults). The new
 * worker picks up the dead one's locked jobs within seconds (server/jobs/liveness.ts): every license is issued
 * once and every email delivered once. `npm run soak` runs the same with more checkouts.
 */
const N = 1000;

describe("the worker killed mid-burst", () => {
  it(`issues every license once and sends every email once after a kill -9 during ${N} checkouts`, async () => {
    const f = await killWorkerMidBurst(N, (l) => console.log(`[kill-9] ${l}`));
    console.log(`[kill-9] ${JSON.stringify(f)}`);
    expect(f.webhooksAccepted).toBe(N);
    // Killed mid-burst, not before nor after.
    expect(f.licensesAtKill).toBeGreaterThan(0);
    expect(f.licensesAtKill).toBeLessThan(N);
    expect(f).toMatchObject({ licenses: N, licensedSessions: N, emailsDelivered: N, notOnce: {} });
    // The dead worker's jobs came back within seconds, not graphile-worker's four hours.
    expect(f.secondsUntilDeadWorkersJobsReleased).toBeLessThan(30);
  }, 300_000);
});
