import { randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { logger } from "@/server/observability/log";

/**
 * The client's address: decided once per request by the door (server/http/door.ts), from the connection and,
 * only when TRUST_PROXY says proxies are in front, from the X-Forwarded-For entries those proxies appended.
 * Never from anything the client alone wrote.
 *
 * The door hands the address to every route in a request header it owns. A header is only believed when it
 * carries this process's door marker (random, made when the door opens, never sent to anyone), so a request
 * that reached Next some other way (`next start` run directly) cannot forge it: such a request has no
 * trustworthy address at all and counts in one shared bucket (see `addressFromDoor`).
 */

export const CLIENT_ADDRESS_HEADER = "x-keystead-client-address";
export const DOOR_MARKER_HEADER = "x-keystead-door";

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is 1.2.3.4: one client, one bucket. */
export function normalizeAddress(address: string): string {
  const a = address.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  if (mapped) return mapped[1]!;
  // Some proxies write a port (`1.2.3.4:5678`, `[2001:db8::1]:443`); the port is not part of who the client is.
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(a);
  if (v4WithPort) return v4WithPort[1]!;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed && isIP(bracketed[1]!)) return normalizeAddress(bracketed[1]!);
  return a.toLowerCase();
}

/**
 * Who the client is, given the connection's peer address, the X-Forwarded-For entries (every copy of the
 * header, in order) and TRUST_PROXY (how many reverse proxies stand in front, each appending the peer it saw).
 *
 * - 0 proxies: the connection's own address, whatever the headers say.
 * - N proxies: the N-th entry from the right, the one our outermost proxy appended. Entries further left were
 *   written by the client and are never read.
 * - Fewer entries than N: the left-most entry. Every entry there was appended by one of our proxies (a client
 *   can only add entries on the left, which would make the list longer), so it is the outermost peer that any
 *   of our proxies saw: a request that skipped the outer proxies is limited by the address it came from.
 * - No entry at all: the connection's own address (nothing in front appended anything).
 */
export function resolveClientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined, trustProxy: number): string {
  const own = socketAddress ? normalizeAddress(socketAddress) : "unknown";
  if (trustProxy <= 0) return own;
  const entries = (Array.isArray(forwardedFor) ? forwardedFor : [forwardedFor ?? ""])
    .flatMap((h) => h.split(","))
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) return own;
  return normalizeAddress(entries[Math.max(0, entries.length - trustProxy)]!);
}

const holder = globalThis as unknown as { __keysteadDoorMarker?: string; __keysteadWarnedNoDoor?: boolean };

/**
 * This process's door marker, made on first use by the door. globalThis, not a module variable: the door's
 * bundle and Next's server bundle each have their own copy of this module, but share the process.
 */
export function openDoorMarker(): string {
  holder.__keysteadDoorMarker ??= randomBytes(24).toString("base64url");
  return holder.__keysteadDoorMarker;
}

/** Replaces whatever the client sent under our headers with the address the door decided. */
export function stampClientAddress(headers: Record<string, string | string[] | undefined>, address: string) {
  headers[CLIENT_ADDRESS_HEADER] = address;
  headers[DOOR_MARKER_HEADER] = openDoorMarker();
}

/**
 * The address the door stamped on this request, or "unknown" (one bucket shared by every such request) when
 * the request did not come through this process's door: then nothing on it can be believed.
 */
export function addressFromDoor(headers: Headers): string {
  const marker = holder.__keysteadDoorMarker;
  const sent = headers.get(DOOR_MARKER_HEADER);
  const address = headers.get(CLIENT_ADDRESS_HEADER);
  if (marker && sent && address && sameBytes(sent, marker)) return address;
  if (!holder.__keysteadWarnedNoDoor) {
    holder.__keysteadWarnedNoDoor = true;
    logger().warn(
      "[keystead] a request reached a route without passing the door (server/http/main.ts): per-IP limits cannot " +
        "tell clients apart and count them all as one. Start Keystead with `npm start`, not `next start`.",
    );
  }
  return "unknown";
}

function sameBytes(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
