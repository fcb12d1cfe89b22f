import { afterEach, describe, expect, it } from "vitest";
import { resetEnvCache } from "@/server/env";
import { open, openSealed, seal, SealedUnderAnotherSecretError } from "./secret-box";

const A = "secret-box-test-secret-a-0123456789";
const B = "secret-box-test-secret-b-0123456789";
const saved = { AUTH_SECRET: process.env.AUTH_SECRET, AUTH_SECRET_PREVIOUS: process.env.AUTH_SECRET_PREVIOUS };

function secrets(current: string, previous?: string) {
  process.env.AUTH_SECRET = current;
  if (previous) process.env.AUTH_SECRET_PREVIOUS = previous;
  else delete process.env.AUTH_SECRET_PREVIOUS;
  resetEnvCache();
}

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  resetEnvCache();
});

describe("the secret box across a rotation", () => {
  it("opens what the previous secret sealed, and seals only under the current one", () => {
    secrets(A);
    const underA = seal("license-key", "KEY-A");
    secrets(B, A);
    expect(open("license-key", underA).toString()).toBe("KEY-A");
    expect(openSealed("license-key", underA)).toMatchObject({ under: "previous" });
    const underB = seal("license-key", "KEY-B");
    expect(openSealed("license-key", underB)).toMatchObject({ under: "current" });
    // Without the previous secret, B's value still opens and A's does not.
    secrets(B);
    expect(open("license-key", underB).toString()).toBe("KEY-B");
    expect(() => open("license-key", underA)).toThrow(SealedUnderAnotherSecretError);
  });

  it("keys each purpose apart: a value sealed for one purpose does not open as another", () => {
    secrets(A);
    const sealed = seal("signing-key", "private");
    expect(openSealed("license-key", sealed)).toEqual({ under: "neither" });
  });
});
