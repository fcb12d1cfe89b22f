// `npm run bench:sdk`: the SDK's figures (sdk/bench.ts), the online ones included, in one command: starts the
// built app (`npm run build` first) on a free port against the `keystead_bench_sdk` database (created and
// migrated on first use, kept between runs), points sdk/bench.ts at it, then stops it. Apart from
// `npm run bench` so that one stays as fast as it was.
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { freePort } from "../helpers/ports";
import { benchDatabase } from "./seed";

async function main() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const adminToken = crypto.randomBytes(24).toString("hex");
  const app = spawn(process.execPath, [path.join(process.cwd(), "dist/server.js"), "--hostname", "127.0.0.1"], {
    detached: true,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(port),
      APP_URL: url,
      DATABASE_URL: await benchDatabase("keystead_bench_sdk"),
      AUTH_SECRET: "bench-auth-secret-0123456789abcdef",
      ADMIN_API_TOKEN: adminToken,
      RATE_LIMIT_IP: "0",
      RATE_LIMIT_KEY: "0",
      WORKER: "off",
    },
  });
  try {
    for (let healthy = false, deadline = Date.now() + 60_000; !healthy;) {
      if (Date.now() > deadline) throw new Error(`${url}/api/health did not answer 200 within 60 s`);
      healthy = await fetch(`${url}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (!healthy) await new Promise((r) => setTimeout(r, 250));
    }
    // Its own process: sdk/ is an ES module package with top-level await.
    const bench = spawnSync(path.join(process.cwd(), "node_modules/.bin/tsx"), ["sdk/bench.ts"], {
      stdio: "inherit",
      env: { ...process.env, KEYSTEAD_URL: url, KEYSTEAD_ADMIN_TOKEN: adminToken },
    });
    process.exitCode = bench.status ?? 1;
  } finally {
    process.kill(-app.pid!, "SIGTERM");
  }
}

void main();
