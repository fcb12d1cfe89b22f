import type { Task } from "graphile-worker";
import { TaskPayloadSchemas, type TaskName, type TaskPayloads } from "./payloads";

/** Wraps a task body with its payload schema: a bad payload fails the job loudly instead of half-running. */
export function defineTask<T extends TaskName>(name: T, run: (payload: TaskPayloads[T]) => Promise<void>): Task {
  return async (raw) => {
    const payload = TaskPayloadSchemas[name].parse(raw) as TaskPayloads[T];
    await run(payload);
  };
}
