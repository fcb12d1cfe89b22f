import { db } from "@/server/db/client";
import { runBatches } from "@/server/domain/sweeps/batch";
import { freeLapsedSeats } from "@/server/domain/sweeps/floating-seats";
import { defineTask } from "../define-task";
import { logger } from "@/server/observability/log";

// Every 5 minutes (crontab.ts): activations silent for longer than their plan's heartbeat window free their seat.
export const sweepFloatingSeatsTask = defineTask("sweep_floating_seats", async () => {
  const freed = await runBatches(() => freeLapsedSeats(db()));
  if (freed) logger().info(`[sweep] ${freed} lapsed activation(s) freed`);
});
