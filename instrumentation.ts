// Runs once when the Next.js server starts, before it serves: settings, database, migrations, signing key,
// and (unless WORKER=off) the job runner in this same process.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { bootOrExit } = await import("./server/boot");
  await bootOrExit();
  const { env } = await import("./server/env");
  if (env().WORKER === "on") {
    const { startWorker } = await import("./server/jobs/worker");
    const { pool } = await import("./server/db/client");
    // A worker that cannot start is logged and reported by /api/health (503); the web side keeps serving.
    await startWorker(pool()).catch(() => undefined);
  }
}
