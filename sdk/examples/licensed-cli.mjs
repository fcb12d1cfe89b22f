#!/usr/bin/env node
// A licensed command-line program: `activate KEY`, `status`, `deactivate`. After one activation it keeps
// working offline (until its token, plus any grace, runs out), because check() falls back to the stored token.
//
//   KEYSTEAD_URL=https://licenses.example.com node licensed-cli.mjs activate XXXXX-XXXXX-XXXXX-XXXXX-XXXXX
//
// Settings: KEYSTEAD_URL (your server), KEYSTEAD_PRODUCT (its product slug), EXAMPLE_STATE (where the license
// state lives; default ~/.config/keystead-example/license.json).
import os from "node:os";
import path from "node:path";
import { Keystead, fileStorage, machineFingerprint } from "@keystead/client/node";

const product = process.env.KEYSTEAD_PRODUCT || undefined;
const ks = new Keystead({
  url: process.env.KEYSTEAD_URL ?? "http://localhost:3000",
  product,
  fingerprint: machineFingerprint({ product: product ?? "keystead-example" }),
  storage: fileStorage(process.env.EXAMPLE_STATE ?? path.join(os.homedir(), ".config", "keystead-example", "license.json")),
  // Ship your server's JWKS here (GET /api/v1/jwks) so an impostor is refused from the very first call.
  publicKeys: process.env.KEYSTEAD_JWKS ? JSON.parse(process.env.KEYSTEAD_JWKS).keys : undefined,
  graceSeconds: 3 * 86_400,
  timeoutMs: 5000,
});

const [command, key] = process.argv.slice(2);
if (command === "activate" && key) {
  const r = await ks.activate(key, { name: os.hostname(), platform: process.platform });
  console.log(r.ok ? `activated: ${r.license.plan} (${r.license.entitlements.join(", ") || "no extras"})` : `not activated: ${r.code}`);
  process.exitCode = r.ok ? 0 : 1;
} else if (command === "status") {
  const r = await ks.check();
  console.log(r.valid ? `licensed (${r.source}), token until ${r.tokenExpiresAt}` : `not licensed: ${r.code}`);
  if (ks.has("export")) console.log("export: enabled");
  process.exitCode = r.valid ? 0 : 1;
} else if (command === "deactivate") {
  const r = await ks.deactivate();
  console.log(r.ok ? "deactivated: this machine's seat is free" : `not deactivated: ${r.code}`);
  process.exitCode = r.ok ? 0 : 1;
} else {
  console.log("usage: licensed-cli.mjs activate KEY | status | deactivate");
  process.exitCode = 2;
}
