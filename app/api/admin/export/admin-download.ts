import { pool } from "@/server/db/client";
import { inSnapshot, textStream } from "@/server/domain/admin/export";
import type { Db } from "@/server/db/client";
import { requireAdminSession } from "@/server/rest/admin-session";
import { toErrorResponse } from "@/server/rest/handler";
import { errorField, logger } from "@/server/observability/log";

/**
 * A file download for the admin app, behind the admin session (the same cookie session as the pages and
 * tRPC; the management API's bearer tokens are not accepted here). The file is streamed from one database
 * snapshot as it is produced.
 */
export async function adminDownload(
  req: Request,
  file: { name: string; contentType: string; produce: (db: Db) => AsyncGenerator<string> },
): Promise<Response> {
  try {
    await requireAdminSession(req);
  } catch (err) {
    return toErrorResponse(err);
  }
  return streamedDownload(file);
}

/** The file streamed from one snapshot, as an attachment no cache keeps (also GET /api/v1/admin/export). */
export function streamedDownload(file: { name: string; contentType: string; produce: (db: Db) => AsyncGenerator<string> }): Response {
  const chunks = inSnapshot(pool(), file.produce);
  const body = textStream(chunks, (err) => logger().error({ err: errorField(err) }, `[export] ${file.name} failed part-way`));
  return new Response(body, {
    headers: {
      "Content-Type": file.contentType,
      "Content-Disposition": `attachment; filename="${file.name}"`,
      // License keys are in here: no cache anywhere may keep a copy.
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}

export const stamp = (d = new Date()) => d.toISOString().slice(0, 19).replaceAll(":", "").replace("T", "-");
