import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import * as ed from "@noble/ed25519";
import { describe, expect, it } from "vitest";
import { ed25519Backend, ed25519Signer } from "./ed25519";

ed.hashes.sha512 = (m: Uint8Array) => new Uint8Array(crypto.createHash("sha512").update(m).digest());

describe("the Ed25519 signer", () => {
  it("signs with libsodium here (sodium-native is installed and has this platform's prebuild)", () => {
    expect(ed25519Backend).toBe("libsodium");
  });

  it("gives node:crypto's exact bytes, for many keys and messages of every length, each verifying", () => {
    for (let k = 0; k < 20; k++) {
      const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
      const sign = ed25519Signer(privateKey);
      const publicRaw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
      for (const length of [0, 1, 63, 64, 65, 200, 4096]) {
        const message = crypto.randomBytes(length);
        const signature = sign(message);
        expect(signature).toHaveLength(64);
        expect(signature.equals(crypto.sign(null, message, privateKey))).toBe(true);
        expect(crypto.verify(null, message, publicKey, signature)).toBe(true);
        expect(ed.verify(signature, message, publicRaw)).toBe(true);
      }
    }
  });

  it("a signature over one message does not verify another", () => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
    const signature = ed25519Signer(privateKey)(Buffer.from("keystead-response-v1\nPOST /a"));
    expect(crypto.verify(null, Buffer.from("keystead-response-v1\nPOST /b"), publicKey, signature)).toBe(false);
  });

  it("falls back to node:crypto where libsodium cannot load, with the same signatures", () => {
    // A process of its own, as on a platform without sodium-native's prebuild (ED25519_SIGNER=node forces it).
    const { privateKey } = crypto.generateKeyPairSync("ed25519");
    const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" }).toString("base64");
    const script = `
      import crypto from "node:crypto";
      import { ed25519Backend, ed25519Signer } from "./server/domain/tokens/ed25519";
      const key = crypto.createPrivateKey({ key: Buffer.from("${pkcs8}", "base64"), format: "der", type: "pkcs8" });
      console.log(JSON.stringify({ backend: ed25519Backend, sig: ed25519Signer(key)(Buffer.from("hello")).toString("hex") }));`;
    const run = spawnSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "--eval", script], {
      encoding: "utf8",
      env: { ...process.env, ED25519_SIGNER: "node" },
    });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim());
    expect(out.backend).toBe("node:crypto");
    expect(out.sig).toBe(ed25519Signer(privateKey)(Buffer.from("hello")).toString("hex"));
  });

  it("refuses a value of ED25519_SIGNER it does not know, naming the setting", () => {
    const run = spawnSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "--eval", `import "./server/domain/tokens/ed25519";`], {
      encoding: "utf8",
      env: { ...process.env, ED25519_SIGNER: "openssl" },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('Invalid setting ED25519_SIGNER: "openssl" (use libsodium or node)');
  });
});
