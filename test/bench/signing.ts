// Offline-token signing rate: our signer (claims with a fresh jti + JWS encoding + Ed25519, libsodium where it
// loads: server/domain/tokens/ed25519.ts) against a raw node:crypto Ed25519 signature over a message of the same
// size, and @noble/ed25519 for reference. CPU time in
// alternating batches, so a busy neighbour on a shared machine slows both sides alike.
import crypto from "node:crypto";
import * as ed from "@noble/ed25519";
import { ed25519Backend, ed25519Signer } from "@/server/domain/tokens/ed25519";
import type { SigningKey } from "@/server/domain/tokens/keyring";
import { offlineTokenClaims, signOfflineToken } from "@/server/domain/tokens/offline-token";
import type { LicenseRecord } from "@/server/domain/licensing/lookup";

ed.hashes.sha512 = (m: Uint8Array) => new Uint8Array(crypto.createHash("sha512").update(m).digest());

function cpuMicros(fn: () => unknown, n: number) {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

export async function benchSigning() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const key: SigningKey = { kid: "bench", privateKey, publicKeyX: publicKey.export({ format: "jwk" }).x!, sign: ed25519Signer(privateKey) };
  const license: LicenseRecord = {
    id: crypto.randomUUID(),
    status: "active",
    maxActivations: 3,
    expiresAt: null,
    customerId: crypto.randomUUID(),
    plan: "pro",
    product: "editor",
    entitlements: ["export", "sync"],
    graceDays: 0,
    offlineTokenTtlSeconds: null,
    heartbeatWindowSeconds: null,
  };
  const claims = () =>
    offlineTokenClaims({ license, fingerprint: "machine-1", issuer: "https://licenses.example.com", defaultTtlSeconds: 1_209_600, at: new Date() });
  const message = Buffer.from(signOfflineToken(key, claims()).split(".").slice(0, 2).join("."));
  const seed = privateKey.export({ format: "jwk" }).d!;
  const nobleSecret = new Uint8Array(Buffer.from(seed, "base64url"));

  const raw = () => crypto.sign(null, message, privateKey);
  const ours = () => signOfflineToken(key, claims());
  const noble = () => ed.sign(message, nobleSecret);
  for (const f of [raw, ours, noble]) cpuMicros(f, 2000);

  let rawCpu = 0;
  let oursCpu = 0;
  let nobleCpu = 0;
  const batch = 500;
  const rounds = 20;
  for (let r = 0; r < rounds; r++) {
    rawCpu += cpuMicros(raw, batch);
    oursCpu += cpuMicros(ours, batch);
    nobleCpu += cpuMicros(noble, batch / 10);
  }
  const n = batch * rounds;
  const rate = (cpu: number, count: number) => count / (cpu / 1e6);
  const rawRate = rate(rawCpu, n);
  const oursRate = rate(oursCpu, n);
  const nobleRate = rate(nobleCpu, n / 10);
  return {
    rawRate,
    oursRate,
    lines: [
      `node:crypto raw Ed25519 sign (${message.length}-byte message): ${rawRate.toFixed(0)} /s (baseline)`,
      `Keystead offline token (claims + JWS + sign)       : ${oursRate.toFixed(0)} /s = ${((oursRate / rawRate) * 100).toFixed(0)}% of baseline (goal >= 80%; signs with ${ed25519Backend})`,
      `@noble/ed25519 sync sign, for reference            : ${nobleRate.toFixed(0)} /s = ${((nobleRate / rawRate) * 100).toFixed(0)}% of baseline`,
    ],
  };
}

if (require.main === module) {
  benchSigning().then((r) => r.lines.forEach((l) => console.log(l)));
}
