import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseGumroad } from "./gumroad";
import { parseKeygen } from "./keygen";
import { parseLemonSqueezy } from "./lemonsqueezy";
import { parsePolar } from "./polar";

// The platform parsers on their own: the shapes each API answers in (one document, or several pages/documents
// as a JSON array), and a row that cannot be read refused with its reason while the others go on.

const fixture = (name: string) => fs.readFileSync(path.join(process.cwd(), "test/fixtures/import", name), "utf8");

describe("Lemon Squeezy", () => {
  it("takes license keys and GET /v1/license-key-instances as separate documents in an array", () => {
    const doc = JSON.parse(fixture("lemonsqueezy-license-keys.json"));
    const instances = doc.included.filter((r: { type: string }) => r.type === "license-key-instances");
    const keysOnly = { ...doc, included: [] };
    const parsed = parseLemonSqueezy(JSON.stringify([keysOnly, { data: instances }]));
    expect(parsed.licenses.find((l) => l.row === 1)!.activations.map((a) => a.fingerprint)).toEqual([
      "f70a79fa-089f-4ad6-9c84-2d8f1a7d2e11",
      "0d3b0b1e-7a5c-4c19-8f1e-5a6b7c8d9e0f",
    ]);
    // Without the included product, the product is still named.
    expect(parsed.licenses[0]!.product).toEqual({ ref: "product:11", name: "Lemon Squeezy product 11" });
  });

  it("refuses a row with an unknown status or a date that is not one, and reads the others", () => {
    const doc = JSON.parse(fixture("lemonsqueezy-license-keys.json"));
    doc.data[0].attributes.status = "paused";
    doc.data[1].attributes.expires_at = "someday";
    const parsed = parseLemonSqueezy(JSON.stringify(doc));
    expect(parsed.refused).toEqual([
      { row: 1, reason: 'status "paused" is not a Lemon Squeezy license status' },
      { row: 2, reason: 'expires_at "someday" is not a date' },
      { row: 3, reason: "no customer email" },
    ]);
    expect(parsed.licenses.map((l) => l.row)).toEqual([4]);
  });

  it("refuses a file that is neither its JSON nor a CSV with keys", () => {
    expect(() => parseLemonSqueezy('{"nope": 1}')).toThrow(/not a Lemon Squeezy/);
  });
});

describe("Keygen", () => {
  it("takes the machines list as a second document", () => {
    const doc = JSON.parse(fixture("keygen-licenses.json"));
    const machines = doc.included.filter((r: { type: string }) => r.type === "machines");
    const parsed = parseKeygen(JSON.stringify([{ ...doc, included: doc.included.filter((r: { type: string }) => r.type !== "machines") }, { data: machines }]));
    expect(parsed.licenses[0]!.activations).toEqual([
      expect.objectContaining({ fingerprint: "4f:0c:2a:9e:71:d3:55:b8:1c:e0:aa:42:6d:90:13:77", platform: "macOS" }),
    ]);
    expect(parsed.licenses[0]!.name).toBe("Grace Hopper");
  });
});

describe("Polar", () => {
  it("takes several pages of the list as an array", () => {
    const page = JSON.parse(fixture("polar-license-keys.json"));
    const parsed = parsePolar(JSON.stringify([{ ...page, items: page.items.slice(0, 1) }, { ...page, items: page.items.slice(1) }]));
    expect(parsed.rows).toBe(3);
    expect(parsed.licenses.map((l) => [l.row, l.status])).toEqual([
      [1, "active"],
      [2, "revoked"],
    ]);
    expect(() => parsePolar('{"data": []}')).toThrow(/not a Polar/);
  });
});

describe("Gumroad", () => {
  it("maps per variant, revokes a lost dispute but not a won one, and reads the purchase time as UTC", () => {
    const header = "Purchase ID,Item Name,Purchase Email,Purchase Date,Purchase Time (UTC timezone),Disputed?,Dispute Won?,Variants,License Key,Quantity";
    const csv = [header, "p1,App,a@example.com,2024-01-02,03:04,1,0,Pro,KEY-1,1", "p2,App,b@example.com,2024-01-02,03:04,1,1,,KEY-2,3"].join("\n");
    const parsed = parseGumroad(csv);
    expect(parsed.licenses.map((l) => [l.product.ref, l.status, l.quantity, l.createdAt?.toISOString()])).toEqual([
      ["product:App:Pro", "revoked", 1, "2024-01-02T03:04:00.000Z"],
      ["product:App", "active", 3, "2024-01-02T03:04:00.000Z"],
    ]);
  });
});
