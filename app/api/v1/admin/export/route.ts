// GET /api/v1/admin/export?keys=sealed|clear (scope admin): the export document, streamed from one snapshot.
import { ExportQuery, exportJson } from "@/server/domain/admin/export";
import { adminRoute } from "@/server/rest/admin";
import { methodNotAllowed } from "@/server/rest/handler";
import { stamp, streamedDownload } from "@/app/api/admin/export/admin-download";

export const dynamic = "force-dynamic";

export const GET = adminRoute({ input: ExportQuery }, async ({ input }) =>
  streamedDownload({
    name: `keystead-export-${stamp()}.json`,
    contentType: "application/json; charset=utf-8",
    produce: (db) => exportJson(db, { keys: input.keys }),
  }),
);

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
