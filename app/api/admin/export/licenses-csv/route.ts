// GET /api/admin/export/licenses-csv: one line per license, keys revealed (server/domain/admin/export.ts).
import { exportLicensesCsv } from "@/server/domain/admin/export";
import { adminDownload, stamp } from "../admin-download";

export const dynamic = "force-dynamic";

export function GET(req: Request) {
  return adminDownload(req, {
    name: `keystead-licenses-${stamp()}.csv`,
    contentType: "text/csv; charset=utf-8",
    produce: (db) => exportLicensesCsv(db),
  });
}
