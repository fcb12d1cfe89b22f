import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releases } from "@/server/db/schema";
import { TEST_ADMIN_TOKEN, startApp, type TestApp } from "./helpers/app";
import { makeProduct } from "./helpers/factories";

// Idempotency-Key on the management API's non-JSON bodies (a multipart release upload) against the built app:
// the same key and bytes answer the first answer again and store one release; the same key with other bytes is
// 409 IDEMPOTENCY_CONFLICT and stores nothing.

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app?.stop();
});

/** A multipart body written out by hand, so two requests can carry exactly the same bytes. */
function multipart(fields: Record<string, string>, file: { name: string; content: string }) {
  const boundary = "----keystead-test-boundary";
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n${file.content}\r\n`);
  return { body: parts.join("") + `--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` };
}

const upload = (key: string, body: { body: string; type: string }) =>
  fetch(`${app.url}/api/v1/admin/releases`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "idempotency-key": key, "content-type": body.type },
    body: body.body,
  });

describe("Idempotency-Key on an upload", () => {
  it("replays the first answer for the same bytes, and refuses other bytes with the same key", async () => {
    const product = await makeProduct(app.database.db);
    const first = multipart({ product: product.slug, version: "2.0.0", channel: "stable" }, { name: "app-2.0.0.zip", content: "build two" });

    const a = await upload("upload-key-1", first);
    expect(a.status, await a.clone().text()).toBe(201);
    const b = await upload("upload-key-1", first);
    expect(b.status).toBe(201);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    expect(await b.json()).toEqual(await a.json());
    expect(await app.database.db.select().from(releases).where(eq(releases.productId, product.id))).toHaveLength(1);

    const other = multipart({ product: product.slug, version: "2.0.1", channel: "stable" }, { name: "app-2.0.1.zip", content: "build three" });
    const c = await upload("upload-key-1", other);
    expect(c.status).toBe(409);
    expect((await c.json()).error.code).toBe("IDEMPOTENCY_CONFLICT");
    expect(await app.database.db.select().from(releases).where(eq(releases.productId, product.id))).toHaveLength(1);

    // Another key is another request: the new version is stored.
    const d = await upload("upload-key-2", other);
    expect(d.status).toBe(201);
    expect(await app.database.db.select().from(releases).where(eq(releases.productId, product.id))).toHaveLength(2);
  });
});
