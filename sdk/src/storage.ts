import type { Storage } from "./types";

/** State kept in memory only: it is gone when the process ends (tests, short-lived tools). */
export function memoryStorage(initial: Record<string, string> = {}): Storage {
  const map = new Map(Object.entries(initial));
  return {
    get: (key) => map.get(key) ?? null,
    set: (key, value) => void map.set(key, value),
    delete: (key) => void map.delete(key),
  };
}
