// POST /api/v1/report-website-error { product_id, client_version?, user_identifier?, error_summary, error_details? }
// -> 202. The Key Commander template sends it with X-Internal-API-Key, so it sits behind that key too; the texts
// are cut to bounded lengths and each address may report a bounded number per minute.
import { db } from "@/server/db/client";
import { ReportWebsiteErrorInput, reportWebsiteError } from "@/server/domain/integrations/key-commander";
import { limit } from "@/server/rest/handler";
import { clientIp } from "@/server/rest/rate-limit";
import { internalRoute } from "@/server/rest/internal";

export const POST = internalRoute({ input: ReportWebsiteErrorInput }, async ({ input, req }) => {
  await limit(`website-error:${clientIp(req)}`, 60);
  return { status: 202, body: await reportWebsiteError(db(), input) };
});

export const dynamic = "force-dynamic";
