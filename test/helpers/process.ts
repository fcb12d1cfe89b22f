import { spawn } from "node:child_process";
import path from "node:path";

export const nextBin = path.join(process.cwd(), "node_modules/next/dist/bin/next");
export const tsxBin = path.join(process.cwd(), "node_modules/tsx/dist/cli.mjs");

/**
 * Runs a Node entry point to its exit with only the given settings (plus PATH and HOME), and returns its exit
 * code and everything it printed. Killed, and the test failed, if it does not exit in time.
 */
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
