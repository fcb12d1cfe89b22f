// Runs once when the Next.js server starts, before it serves: settings, database, migrations, signing key,
// and (unless WORKER=off) the job runner in this same process.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { bootOrExit } = await import("./server/boot");
  await bootOrExit();
  const { env } = await import("./server/env");
  const { onShutdown } = await import("./server/http/shutdown");
  const { closeDb, pool } = await import("./server/db/client");
  // On SIGTERM/SIGINT the door (server/http/main.ts) runs these, newest first: jobs finish, then the pool closes.
  onShutdown(closeDb);
  if (env().WORKER === "on") {
    const { startWorker } = await import("./server/jobs/worker");
    // A worker that cannot start is logged and reported by /api/health (503); the web side keeps serving.
    const runner = await startWorker(pool()).catch(() => undefined);
    if (runner) {
      onShutdown(async () => {
        // graphile-worker's own signal handler may have stopped it first ("already stopped"): either way, wait.
        await runner.stop().catch(() => undefined);
        await runner.promise.catch(() => undefined);
      });
    }
  }
}
