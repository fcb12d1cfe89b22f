/**
 * What must finish before the process exits on SIGTERM/SIGINT, after the door stopped taking requests: the
 * worker's running jobs, then the database pool. Registered from Next's bundle (instrumentation.ts), run by the
 * door's: the list lives on globalThis because each bundle has its own copy of this module.
 */
import { logger } from "@/server/observability/log";

type Hook = () => Promise<void>;
const holder = globalThis as unknown as { __keysteadShutdownHooks?: Hook[]; __keysteadShutdownRuns?: boolean };

/** Said by the door (server/http/main.ts) at start: this process runs the hooks on SIGTERM/SIGINT. */
export function willRunShutdownHooks() {
  holder.__keysteadShutdownRuns = true;
}

/** Whether anyone will run the hooks (not under `next start` or the worker alone, which handle signals their own way). */
export function shutdownHooksRun(): boolean {
  return holder.__keysteadShutdownRuns === true;
}

export function onShutdown(hook: Hook) {
  (holder.__keysteadShutdownHooks ??= []).push(hook);
}

/** Runs the hooks last-registered first (the pool outlives the worker that uses it); errors are logged once each. */
export async function runShutdownHooks() {
  const hooks = holder.__keysteadShutdownHooks ?? [];
  holder.__keysteadShutdownHooks = [];
  for (const hook of hooks.reverse()) {
    await hook().catch((err: unknown) => logger().error(`[keystead] shutdown step failed: ${err instanceof Error ? err.message : String(err)}`));
  }
}
