import { db } from "@/server/db/client";
import { SYSTEM } from "@/server/domain/audit/record";
import { runImportJob } from "@/server/domain/import";
import { defineTask } from "../define-task";
import { logger } from "@/server/observability/log";

// Queued by POST /api/v1/admin/import for a large file (server/domain/import). The import records its own
// outcome (done or failed) in import_jobs; a crash part-way is retried and resumes after the last batch.
export const importRunTask = defineTask("import_run", async ({ importId }) => {
  const { import: job } = await runImportJob(db(), importId, SYSTEM);
  logger().info(`[keystead] import ${importId} (${job.format}): ${job.status}, ${job.counts.licenses ?? 0} license(s), ${job.refused.length} refused`);
});
