/**
 * What /api/health and /api/ready report about this process's job runner. Kept apart from ./worker.ts (which
 * loads graphile-worker) so the door can read it: the state lives on globalThis, set by the worker's bundle.
 */
export type WorkerState = "not started" | "starting" | "running" | "stopped" | "failed";

const holder = globalThis as unknown as { __keysteadWorkerState?: WorkerState };

export function workerState(): WorkerState {
  return holder.__keysteadWorkerState ?? "not started";
}

export function setWorkerState(state: WorkerState) {
  holder.__keysteadWorkerState = state;
}
