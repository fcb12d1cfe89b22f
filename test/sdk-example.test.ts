import { execFile, execFileSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "./helpers/app";
import { makeLicense, makePlan, makeProduct } from "./helpers/factories";

const run = promisify(execFile);
const CLI = path.join(process.cwd(), "sdk/examples/licensed-cli.mjs");

// The example program, run as a customer would run it, on the BUILT package (dist/, through the
// workspace's node_modules/@keystead/client link): activation, status online, status with the server gone.
describe("sdk/examples/licensed-cli.mjs", () => {
  let app: TestApp | undefined;
  beforeAll(async () => {
    execFileSync(process.execPath, ["build.mjs", "--no-types"], { cwd: path.join(process.cwd(), "sdk"), stdio: "pipe" });
    app = await startApp({ env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("activate KEY, status online, status offline once the server is gone; deactivate needs the server", async () => {
    const product = await makeProduct(app!.database.db);
    const plan = await makePlan(app!.database.db, { productId: product.id, entitlements: ["export"] });
    const { key } = await makeLicense(app!.database.db, { planId: plan.id });
    const jwks = (await app!.get("/api/v1/jwks")).body;
    const env: NodeJS.ProcessEnv = {
      NODE_ENV: "production",
      PATH: process.env.PATH,
      KEYSTEAD_URL: app!.url,
      KEYSTEAD_PRODUCT: product.slug,
      KEYSTEAD_JWKS: JSON.stringify(jwks),
      EXAMPLE_STATE: path.join(await mkdtemp(path.join(os.tmpdir(), "ks-cli-")), "license.json"),
    };
    const cli = async (...args: string[]) => {
      try {
        const { stdout } = await run(process.execPath, [CLI, ...args], { env, encoding: "utf8" });
        return { code: 0, stdout };
      } catch (err) {
        const e = err as { code: number; stdout: string };
        return { code: e.code, stdout: e.stdout };
      }
    };

    expect(await cli("status")).toEqual({ code: 1, stdout: "not licensed: NO_TOKEN\n" });
    const activated = await cli("activate", key);
    expect(activated).toMatchObject({ code: 0, stdout: `activated: ${plan.slug} (export)\n` });
    const online = await cli("status");
    expect(online.code).toBe(0);
    expect(online.stdout).toMatch(/^licensed \(online\), token until \S+\nexport: enabled\n$/);

    await app!.stop();
    app = undefined;
    const offline = await cli("status");
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/^licensed \(offline\)/);
    // Freeing the seat needs the server: offline the program says so and keeps its license.
    expect(await cli("deactivate")).toEqual({ code: 1, stdout: "not deactivated: UNREACHABLE\n" });
    expect((await cli("status")).stdout).toMatch(/^licensed \(offline\)/);
  });
});
