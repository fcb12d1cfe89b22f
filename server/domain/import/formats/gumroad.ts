import type { LicenseStatus } from "@/server/db/schema";
import { AppError } from "@/server/domain/errors";
import { eachRow, parseDate, parseEmail, parseLimit, refuse, type ForeignLicense, type ParsedFile } from "../types";
import { column, hasColumn, readCsv, yes } from "./csv";

/**
 * Gumroad: the sales CSV the dashboard exports (Sales -> Export), one line per sale; a line without a license
 * key (a product sold without licenses) is refused. Products are mapped by "Product ID" (or, in exports without
 * it, "Item Name"), per variant where the sale names one. A refunded, charged-back or lost-dispute sale is
 * revoked (Gumroad itself stops verifying those keys); a subscription that ended is expired at its end date.
 * Seats: Gumroad has none per key; the plan's seats times the sale's quantity.
 */
export function parseGumroad(text: string): ParsedFile {
  const records = readCsv(text, "a Gumroad sales CSV export");
  if (records.length && !hasColumn(records, "license key", "license_key")) {
    throw new AppError("UNREADABLE_IMPORT", 'This Gumroad sales CSV has no "License Key" column.');
  }
  return eachRow(records, (r, row): ForeignLicense => {
    const key = column(r, "license key", "license_key") ?? refuse("no license key (the product was sold without licenses)");
    const productId = column(r, "product id", "product_id");
    const itemName = column(r, "item name", "product name", "product_name", "product");
    const variants = column(r, "variants", "variant");
    const base = productId ?? itemName ?? refuse("no product");
    const ref = variants ? `product:${base}:${variants}` : `product:${base}`;
    const revoked =
      yes(column(r, "refunded?", "fully refunded?", "refunded")) ||
      yes(column(r, "chargebacked?", "chargeback?")) ||
      (yes(column(r, "disputed?")) && !yes(column(r, "dispute won?")));
    const ended = parseDate(column(r, "subscription end date", "subscription_ended_at"), "subscription end date");
    let status: LicenseStatus = "active";
    if (revoked) status = "revoked";
    else if (ended && ended.getTime() <= Date.now()) status = "expired";
    const date = column(r, "purchase date", "sale date", "created at", "sale_timestamp");
    const time = column(r, "purchase time (utc timezone)", "purchase time");
    return {
      row,
      key,
      email: parseEmail(column(r, "purchase email", "buyer email", "email")),
      name: column(r, "buyer name", "full name", "name"),
      product: { ref, name: [itemName ?? productId, variants].filter(Boolean).join(" / ") },
      status,
      maxActivations: null,
      quantity: Math.max(1, parseLimit(column(r, "quantity"), "quantity") ?? 1),
      expiresAt: ended,
      createdAt: parseDate(date && time && !date.includes("T") ? `${date} ${time.length === 5 ? `${time}:00` : time}` : date, "purchase date"),
      activations: [],
      externalId: column(r, "purchase id", "sale id", "sale_id") ? `gumroad:${column(r, "purchase id", "sale id", "sale_id")}` : null,
    };
  });
}
