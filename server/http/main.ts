// The process entry for `npm start`, `npm run dev`, the tests and the image: the door in front of Next's own
// request handler, in one process (web, and the worker unless WORKER=off, started by instrumentation.ts).
// `npm run build` bundles this file into dist/server.js (scripts/build-server.mjs).
//
//   node dist/server.js [--dev] [--hostname 127.0.0.1]      (port: PORT; default: every interface)
import fs from "node:fs";
import type http from "node:http";
import net from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import next from "next";
import { ed25519Backend } from "@/server/domain/tokens/ed25519";
import { bootOrExit } from "@/server/boot";
import { EnvError, env, type Env } from "@/server/env";
import { keepHeapNearLive } from "@/server/observability/heap";
import { errorField, logger } from "@/server/observability/log";
import { doorRoutes } from "@/server/rest/license-routes";
import { opsRoutes } from "@/server/rest/ops-routes";
import { createDoor } from "./door";
import { routeLabeller } from "./route-label";
import { runShutdownHooks, willRunShutdownHooks } from "./shutdown";

keepHeapNearLive();

const { values: args } = parseArgs({ options: { dev: { type: "boolean" }, hostname: { type: "string" } } });
const dev = args.dev === true;
// What `next dev` and `next start` do: the mode decides NODE_ENV unless the operator set it.
Object.assign(process.env, { NODE_ENV: process.env.NODE_ENV || (dev ? "development" : "production") });

/** Settings first, so a bad one is the first and only line the operator reads. */
function settingsOrExit(): Env {
  try {
    return env();
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    // A plain line, not JSON: the one thing the operator must read, before there are settings to log with.
    console.error(err.message);
    process.exit(1);
  }
}

/**
 * Next's standalone output (the image) has no next.config.mjs: its own server.js hands Next the build's
 * config through this variable. We hand over the same config, from the file the build wrote beside it.
 */
function useStandaloneConfig(dir: string) {
  if (fs.existsSync(path.join(dir, "next.config.mjs"))) return;
  const file = path.join(distDir(dir), "required-server-files.json");
  if (!fs.existsSync(file)) return;
  process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(JSON.parse(fs.readFileSync(file, "utf8")).config);
}

/**
 * The build beside us. NEXT_DIST_DIR is the build layout (next.config.mjs reads it too), not an app setting; a
 * standalone output built under another name (scripts/build-standalone.sh with NEXT_DIST_DIR) is found as the
 * one .next* folder holding the build's server files.
 */
function distDir(dir: string): string {
  if (process.env.NEXT_DIST_DIR) return path.join(dir, process.env.NEXT_DIST_DIR);
  if (fs.existsSync(path.join(dir, ".next"))) return path.join(dir, ".next");
  const found = fs
    .readdirSync(dir)
    .find((name) => name.startsWith(".next") && fs.existsSync(path.join(dir, name, "required-server-files.json")));
  return path.join(dir, found ?? ".next");
}

/**
 * Next attaches its upgrade handler (the dev server's HMR websocket) to the server of the first request it
 * handles. A browser tab left open across a restart reconnects that websocket before it sends any request: the
 * upgrade then reached Next as a plain request (a 404 that compiled the not-found page and reloaded the tab).
 * So attach it at start. `setupWebSocketHandler` is not in Next's types; without it, Next's own first-request
 * wiring still applies.
 */
function attachUpgradeHandler(app: ReturnType<typeof next>, server: http.Server) {
  (app as unknown as { setupWebSocketHandler?: (server: http.Server) => void }).setupWebSocketHandler?.(server);
}

/** SIGTERM/SIGINT: stop taking requests, let running requests and jobs finish, close the pool, exit 0. */
function closeOnSignals(server: http.Server, app: ReturnType<typeof next>) {
  let closing = false;
  const close = (signal: NodeJS.Signals) => {
    // A shell sends Ctrl-C to the whole process group, and graphile-worker re-raises the signal once its jobs
    // have finished: only the first one starts the shutdown.
    if (closing) return;
    closing = true;
    logger().info(`[keystead] ${signal}: finishing requests and jobs, then exiting`);
    const force = setTimeout(() => {
      logger().error("[keystead] still busy after 15 s; exiting anyway");
      process.exit(1);
    }, 15_000);
    force.unref();
    void (async () => {
      await new Promise<void>((resolve) => {
        // Every answer from now on tells its client not to reuse the connection.
        server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader("connection", "close"));
        // Stop listening, but leave idle keep-alive connections to their keep-alive timeout (5 s, announced to
        // the client in every answer) instead of closing them now, as http.Server#close does: a client may be
        // sending its next request on one at this very moment, and would see it reset. A request that arrives
        // on one is answered (with "connection: close"); the callback runs once the last connection is gone.
        if (dev) {
          // The dev server's HMR sockets would hold it open.
          server.close(() => resolve());
          server.closeAllConnections();
        } else {
          net.Server.prototype.close.call(server, () => resolve());
        }
      });
      await app.close();
      await runShutdownHooks();
      process.exit(0);
    })();
  };
  process.on("SIGINT", close);
  process.on("SIGTERM", close);
}

async function main() {
  const settings = settingsOrExit();
  const dir = process.cwd();
  if (!dev) useStandaloneConfig(dir);
  const hostname = args.hostname;
  const app = next({ dev, dir, hostname: hostname ?? "localhost", port: settings.PORT });
  const routes = { ...doorRoutes, ...opsRoutes };
  const server = createDoor({
    trustProxy: settings.TRUST_PROXY,
    next: app.getRequestHandler(),
    routes,
    routeLabel: routeLabeller(Object.keys(routes), distDir(dir)),
  });
  server.on("error", (err) => {
    logger().error(`[keystead] cannot listen on port ${settings.PORT}: ${err.message}`);
    process.exit(1);
  });
  closeOnSignals(server, app);
  willRunShutdownHooks();

  // Runs instrumentation.ts (settings, migrations, signing key, worker) before a single request is taken, the
  // door's own license routes included: they use the pool, keys and counters boot set up (on globalThis).
  await app.prepare();
  // And wait for boot itself, whoever started it: Next may run instrumentation only on its first request (the
  // standalone build does), and the door's own routes must not answer before the database is there (the
  // embedded PostgreSQL's first start takes seconds). One boot per process: this joins the same promise.
  await bootOrExit();
  attachUpgradeHandler(app, server);
  server.listen(settings.PORT, hostname, () => {
    logger().info(`[keystead] ready on http://${hostname ?? "localhost"}:${settings.PORT} (${dev ? "development" : "production"}; Ed25519 by ${ed25519Backend})`);
    if (ed25519Backend !== "libsodium") {
      logger().warn("[keystead] sodium-native did not load here: signing with node:crypto instead (the same signatures, about half the rate)");
    }
  });
}

main().catch((err: unknown) => {
  logger().fatal({ err: errorField(err) }, `[keystead] start-up failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
