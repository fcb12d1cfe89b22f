import { execFile } from "node:child_process";
import crypto from "node:crypto";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "./helpers/app";
import { makeLicense } from "./helpers/factories";

const run = promisify(execFile);
// Debian's python3 with python3-jwt and python3-cryptography (.ci/run installs them), not a pyenv build.
const PYTHON = "/usr/bin/python3";

// The Python block the README shows, run as it is: what a reader copies is what was tested.
function readmePythonVerifier(): string {
  const readme = readFileSync("README.md", "utf8");
  const block = /<!-- python-verifier -->\s*```python\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("README has no python-verifier block");
  return block;
}

const harness = `
import json, sys
a = json.load(sys.stdin)
for name, call in [
    ("token", lambda: verify_token(a["token"], a["jwks"], a["fingerprint"])),
    ("answer", lambda: verify_answer(a["jwks"], "POST", a["path"], a["nonce"], a["date"], a["signature"], base64.b64decode(a["body"]))),
    ("tampered", lambda: verify_answer(a["jwks"], "POST", a["path"], a["nonce"], a["date"], a["signature"], base64.b64decode(a["body"]) + b" ")),
    ("other-nonce", lambda: verify_answer(a["jwks"], "POST", a["path"], "x", a["date"], a["signature"], base64.b64decode(a["body"]))),
    ("other-machine", lambda: verify_token(a["token"], a["jwks"], "elsewhere")),
]:
    try:
        call()
        print(name, "ok")
    except Exception as e:
        print(name, "refused", type(e).__name__)
`;

describe("independent verifiers: the README's Python snippet", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_IP: "0", RATE_LIMIT_KEY: "0" } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("verifies a real token and a real signed answer, and refuses tampered ones", async () => {
    const { key } = await makeLicense(app.database.db);
    const nonce = crypto.randomBytes(16).toString("base64url");
    const path = "/api/v1/licenses/activate";
    const res = await fetch(app.url + path, {
      method: "POST",
      headers: { "content-type": "application/json", "keystead-nonce": nonce },
      body: JSON.stringify({ key, fingerprint: "py-machine" }),
    });
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(201);
    const input = {
      jwks: (await app.get("/api/v1/jwks")).body,
      token: JSON.parse(body.toString()).token,
      fingerprint: "py-machine",
      path,
      nonce,
      date: res.headers.get("date"),
      signature: res.headers.get("keystead-signature"),
      body: body.toString("base64"),
    };
    const child = run(PYTHON, ["-c", readmePythonVerifier() + harness]);
    child.child.stdin!.end(JSON.stringify(input));
    const { stdout } = await child;
    expect(stdout.trim().split("\n")).toEqual([
      "token ok",
      "answer ok",
      "tampered refused InvalidSignature",
      "other-nonce refused InvalidSignature",
      "other-machine refused ValueError",
    ]);
  });
});
