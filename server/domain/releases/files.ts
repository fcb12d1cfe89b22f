import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { env } from "@/server/env";

/**
 * Where release files live: DATA_DIR/releases/<release id>. An upload streams into DATA_DIR/releases/.incoming
 * first and is renamed into place only once it is whole and its row is written (same directory tree, so the
 * rename is atomic): a reader never sees half a file, and a refused upload leaves nothing behind.
 */

export function releasesDir(): string {
  return path.resolve(env().DATA_DIR, "releases");
}

export function incomingDir(): string {
  return path.join(releasesDir(), ".incoming");
}

/** The stored path (relative to DATA_DIR) for a release's file. */
export const storagePathFor = (releaseId: string) => path.posix.join("releases", releaseId);

/** The absolute path of a stored file; refuses anything that would leave DATA_DIR. */
export function absolutePath(storagePath: string): string {
  const root = path.resolve(env().DATA_DIR);
  const full = path.resolve(root, storagePath);
  if (!full.startsWith(root + path.sep)) throw new Error(`release file path leaves DATA_DIR: ${storagePath}`);
  return full;
}

/** A fresh temporary path for an upload in progress (the directory is made on first use). */
export async function newIncomingPath(): Promise<string> {
  await fs.promises.mkdir(incomingDir(), { recursive: true });
  return path.join(incomingDir(), `${crypto.randomUUID()}.part`);
}

export async function removeQuietly(file: string) {
  await fs.promises.rm(file, { force: true }).catch(() => undefined);
}
