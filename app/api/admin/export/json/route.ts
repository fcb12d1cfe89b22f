// GET /api/admin/export/json: everything, license keys revealed (server/domain/admin/export.ts).
import { exportJson } from "@/server/domain/admin/export";
import { adminDownload, stamp } from "../admin-download";

export const dynamic = "force-dynamic";

export function GET(req: Request) {
  return adminDownload(req, {
    name: `keystead-export-${stamp()}.json`,
    contentType: "application/json; charset=utf-8",
    produce: (db) => exportJson(db),
  });
}
