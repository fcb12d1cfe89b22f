import { describe, expect, it } from "vitest";
import { normalizeAddress, resolveClientAddress } from "./client-address";

describe("resolveClientAddress", () => {
  it("with no proxy trusted, is the connection's address whatever the headers say", () => {
    expect(resolveClientAddress("::ffff:192.0.2.1", "198.51.100.1", 0)).toBe("192.0.2.1");
    expect(resolveClientAddress("2001:DB8::1", undefined, 0)).toBe("2001:db8::1");
    expect(resolveClientAddress(undefined, "198.51.100.1", 0)).toBe("unknown");
  });

  it("with N proxies, is the N-th entry from the right, across every copy of the header", () => {
    expect(resolveClientAddress("10.0.0.1", "6.6.6.6, 198.51.100.1", 1)).toBe("198.51.100.1");
    expect(resolveClientAddress("10.0.0.1", ["6.6.6.6, 198.51.100.1", "10.0.0.2"], 2)).toBe("198.51.100.1");
    expect(resolveClientAddress("10.0.0.1", "6.6.6.6,198.51.100.1 , 10.0.0.2", 2)).toBe("198.51.100.1");
  });

  it("with fewer entries than N, is the left-most one; with none, the connection's address", () => {
    expect(resolveClientAddress("10.0.0.1", "198.51.100.1", 3)).toBe("198.51.100.1");
    expect(resolveClientAddress("10.0.0.1", "198.51.100.1, 10.0.0.2", 3)).toBe("198.51.100.1");
    expect(resolveClientAddress("10.0.0.1", "", 1)).toBe("10.0.0.1");
    expect(resolveClientAddress("::ffff:10.0.0.1", undefined, 1)).toBe("10.0.0.1");
  });
});

describe("normalizeAddress", () => {
  it("spells one client one way", () => {
    expect(normalizeAddress("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeAddress("192.0.2.1:5678")).toBe("192.0.2.1");
    expect(normalizeAddress("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(normalizeAddress("[::ffff:192.0.2.1]")).toBe("192.0.2.1");
    expect(normalizeAddress(" 2001:DB8::1 ")).toBe("2001:db8::1");
  });
});
