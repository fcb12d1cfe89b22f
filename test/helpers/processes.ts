import { spawn } from "node:child_process";
import path from "node:path";

/** Runs `node <args>` with only the given settings (plus PATH and HOME) and resolves with its exit code and output. */
export function runToExit(args: string[], env: Record<string, string>, timeoutMs = 30_000) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NEXT_DIST_DIR: process.env.NEXT_DIST_DIR, ...env } as unknown as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`did not exit in time:\n${output}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(t);
      resolve({ code, output });
    });
  });
}

/** `tsx` as `npm run reseal` and `npm run migrate` call it. */
export const tsxCli = path.join(process.cwd(), "node_modules/tsx/dist/cli.mjs");

/** What `npm run worker` runs: the worker entry `npm run build` bundles (scripts/build-server.mjs). */
export const WORKER_ENTRY = path.join(process.cwd(), "dist/worker.js");

/** `next` itself, for the tests that show what running Next without the door does. */
export const nextBin = path.join(process.cwd(), "node_modules/next/dist/bin/next");
