// `npm run worker`: the job runner alone, for scaling it out beside web-only (WORKER=off) replicas.
import { bootOrExit } from "@/server/boot";
import { pool } from "@/server/db/client";
import { startWorker } from "./worker";
import { logger } from "@/server/observability/log";

async function main() {
  await bootOrExit();
  const runner = await startWorker(pool());
  await runner.promise;
}

main().catch((err) => {
  logger().fatal(`[keystead] worker failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
