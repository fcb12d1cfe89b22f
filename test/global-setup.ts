import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";

/**
 * Finds the PostgreSQL server the tests create their databases on: DATABASE_URL's server, or else an
 * embedded PostgreSQL in ./.data/test (the contract's zero-config promise holds for tests too).
 */
export default async function setup(project: TestProject) {
  let baseUrl = process.env.DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!baseUrl) {
    const { startEmbeddedPostgres } = await import("../server/db/embedded");
    baseUrl = await startEmbeddedPostgres(path.join(process.cwd(), ".data", "test"));
  }
  project.provide("pgBaseUrl", baseUrl);

  const distDir = process.env.NEXT_DIST_DIR || ".next";
  if (!fs.existsSync(path.join(distDir, "BUILD_ID"))) {
    throw new Error(`No Next.js build in ${distDir}: run \`npm run build\` (npm test does it for you).`);
  }
  // The door (dist/server.js) is bundled from the current sources, as `npm run build` does, so a Next build
  // made with plain `next build` still runs behind today's door.
  execFileSync(process.execPath, ["scripts/build-server.mjs"], { stdio: "inherit" });
  return async () => {
    await stop?.();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    pgBaseUrl: string;
  }
}
