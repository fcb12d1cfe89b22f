// @keystead/client/node: what only Node (and Electron's main process) can do: files and the OS machine id.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Storage } from "./types";

export * from "./index";

/**
 * State in one JSON file (created with mode 0600). Writes go to a temporary file renamed over the old one,
 * so a crash mid-write never leaves a half-written file.
 */
export function fileStorage(path: string): Storage {
  let queue: Promise<unknown> = Promise.resolve();
  const load = async (): Promise<Record<string, string>> => {
    try {
      const data = JSON.parse(await readFile(path, "utf8")) as unknown;
      return data && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, string>) : {};
    } catch {
      return {};
    }
  };
  // Writes are chained so two concurrent set() calls cannot lose one another's change.
  const update = (change: (state: Record<string, string>) => void) => {
    const next = queue.then(async () => {
      const state = await load();
      change(state);
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
      await rename(tmp, path);
    });
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    get: async (key) => {
      await queue;
      return (await load())[key] ?? null;
    },
    set: (key, value) => update((s) => void (s[key] = value)),
    delete: (key) => update((s) => void delete s[key]),
  };
}

/** The OS's own machine id, read without privileges; null when this OS gives none. */
export function osMachineId(platform: NodeJS.Platform = process.platform): string | null {
  const read = (file: string) => {
    try {
      return readFileSync(file, "utf8").trim() || null;
    } catch {
      return null;
    }
  };
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000, windowsHide: true });
    } catch {
      return "";
    }
  };
  switch (platform) {
    case "win32":
      return /MachineGuid\s+REG_SZ\s+(\S+)/.exec(run("reg", ["query", "HKLM\\SOFTWARE\\Microsoft\\Cryptography", "/v", "MachineGuid"]))?.[1] ?? null;
    case "darwin":
      return /"IOPlatformUUID"\s*=\s*"([^"]+)"/.exec(run("ioreg", ["-rd1", "-c", "IOPlatformExpertDevice"]))?.[1] ?? null;
    default:
      return read("/etc/machine-id") ?? read("/var/lib/dbus/machine-id") ?? read("/etc/hostid");
  }
}

/**
 * A stable identifier for this machine and product: sha256 of the OS machine id and the product slug, so two
 * products (or two vendors) see unrelated values and the machine id itself never leaves the machine. It
 * survives reboots and app updates; it changes when the OS is reinstalled (or its machine id is regenerated).
 */
export function machineFingerprint(opts: { product: string }): string {
  const id = osMachineId();
  if (!id) throw new Error(`machineFingerprint: this system (${process.platform}) exposes no machine id; pass your own fingerprint`);
  return createHash("sha256").update(`keystead-fingerprint-v1\n${opts.product}\n${id}`).digest("hex");
}
