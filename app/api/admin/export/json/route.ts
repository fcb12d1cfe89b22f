// GET /api/admin/export/json?keys=sealed|clear: everything, for the admin app (server/domain/admin/export.ts).
import { ExportQuery, exportJson } from "@/server/domain/admin/export";
import { adminDownload, stamp } from "../admin-download";

export const dynamic = "force-dynamic";

export function GET(req: Request) {
  const { keys } = ExportQuery.catch({ keys: "sealed" }).parse(Object.fromEntries(new URL(req.url).searchParams));
  return adminDownload(req, {
    name: `keystead-export-${stamp()}${keys === "clear" ? "-clear-keys" : ""}.json`,
    contentType: "application/json; charset=utf-8",
    produce: (db) => exportJson(db, { keys }),
  });
}
