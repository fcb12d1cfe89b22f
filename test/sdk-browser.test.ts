import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "./helpers/app";
import { launchBrowser, newPerson } from "./helpers/browser";
import { makeLicense, makePlan, makeProduct } from "./helpers/factories";

const root = process.cwd();
// What a page would load: the built ESM core, and noble's own ESM files through an import map.
const served: Record<string, string> = {
  "/sdk/": path.join(root, "sdk/dist/"),
  "/noble-ed25519/": path.join(root, "node_modules/@noble/ed25519/"),
  "/noble-hashes/": path.join(root, "node_modules/@noble/hashes/"),
};

const page = `<!doctype html><html><head><script type="importmap">{"imports": {
  "@noble/ed25519": "/noble-ed25519/index.js", "@noble/hashes/": "/noble-hashes/" }}</script></head><body>
<script type="module">
  import { Keystead } from "/sdk/index.js";
  window.checkToken = async (token, keys, fingerprint, product) => {
    const ks = new Keystead({ url: "http://127.0.0.1:9", fingerprint, product, publicKeys: keys });
    const loaded = await ks.loadActivationFile(token);
    return { loaded, check: await ks.check(), hasExport: ks.has("export") };
  };
  window.ready = true;
</script></body></html>`;

describe("the built ESM core in Chromium", () => {
  let app: TestApp;
  let browser: Browser;
  let server: http.Server;
  let origin: string;
  beforeAll(async () => {
    execFileSync(process.execPath, ["build.mjs", "--no-types"], { cwd: path.join(root, "sdk"), stdio: "pipe" });
    server = http.createServer(async (req, res) => {
      const url = new URL(req.url!, "http://x").pathname;
      if (url === "/") return void res.writeHead(200, { "content-type": "text/html" }).end(page);
      const prefix = Object.keys(served).find((p) => url.startsWith(p));
      const file = prefix && path.join(served[prefix]!, path.normalize(url.slice(prefix.length)));
      try {
        if (!file || !file.startsWith(served[prefix!]!)) throw new Error("outside");
        res.writeHead(200, { "content-type": "text/javascript" }).end(await readFile(file));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    [app, browser] = await Promise.all([startApp({ env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("verifies a token from the real app offline, and refuses a tampered one", async () => {
    const product = await makeProduct(app.database.db);
    const plan = await makePlan(app.database.db, { productId: product.id, entitlements: ["export"] });
    const { key, license } = await makeLicense(app.database.db, { planId: plan.id });
    const { body } = await app.post("/api/v1/licenses/activate", { key, fingerprint: "browser-1" });
    const jwks = (await app.get("/api/v1/jwks")).body;

    const { page: tab, problems } = await newPerson(browser);
    await tab.goto(origin);
    await tab.waitForFunction(() => (window as any).ready === true);
    const run = (token: string, fingerprint: string) =>
      tab.evaluate(([t, k, f, p]) => (window as any).checkToken(t, k, f, p), [token, jwks.keys, fingerprint, product.slug] as const);

    const ok = await run(body.token, "browser-1");
    expect(ok.check).toMatchObject({ valid: true, source: "offline", license: { id: license.id }, entitlements: ["export"] });
    expect(ok.hasExport).toBe(true);

    const [h, p, s] = body.token.split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, entitlements: ["export", "all"] })).toString("base64url")}.${s}`;
    expect((await run(forged, "browser-1")).loaded).toMatchObject({ valid: false, code: "SIGNATURE_INVALID" });
    expect((await run(body.token, "another-machine")).loaded).toMatchObject({ valid: false });
    expect(problems).toEqual([]);
  });
});
