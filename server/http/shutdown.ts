/**
 * What must finish before the process exits on SIGTERM/SIGINT, after the door stopped taking requests: the
 * worker's running jobs, then the database pool. Registered from Next's bundle (instrumentation.ts), run by the
 * door's: the list lives on globalThis because each bundle has its own copy of this module.
 */
type Hook = () => Promise<void>;
const holder = globalThis as unknown as { __keysteadShutdownHooks?: Hook[] };

export function onShutdown(hook: Hook) {
  (holder.__keysteadShutdownHooks ??= []).push(hook);
}

/** Runs the hooks last-registered first (the pool outlives the worker that uses it); errors are logged once each. */
export async function runShutdownHooks() {
  const hooks = holder.__keysteadShutdownHooks ?? [];
  holder.__keysteadShutdownHooks = [];
  for (const hook of hooks.reverse()) {
    await hook().catch((err: unknown) => console.error("[keystead] shutdown step failed:", err instanceof Error ? err.message : err));
  }
}
