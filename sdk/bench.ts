// Figures for the SDK (issue 9, section 7):  npx tsx sdk/bench.ts
// - offline check()/s in pure JS (noble) next to node:crypto's native Ed25519 verify of the same token;
// - the core bundle (with noble inlined), minified and gzipped;
// - with KEYSTEAD_URL and KEYSTEAD_ADMIN_TOKEN set (a running app): online check() p50/p99 next to a bare
//   fetch of the same heartbeat route. It makes its own product, plan and license through the management API.
import crypto from "node:crypto";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { Keystead, memoryStorage } from "./src/index";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

function rate(fn: () => unknown): number {
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    fn();
    n++;
  }
  return Math.round(n / SECONDS);
}

async function rateAsync(fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return Math.round(n / SECONDS);
}

async function offline() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const jwk = { ...(publicKey.export({ format: "jwk" }) as Record<string, string>), kid: "bench", alg: "EdDSA", use: "sig" };
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const iat = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: "EdDSA", typ: "JWT", kid: "bench" })}.${b64({
    iss: "https://licenses.example.com", sub: "lic", iat, exp: iat + 86_400, jti: "j", fingerprint: "m", product: "app",
    plan: "pro", entitlements: ["export"], status: "active", licenseExpiresAt: null, maxActivations: 1,
  })}`;
  const signature = crypto.sign(null, Buffer.from(input), privateKey);
  const token = `${input}.${signature.toString("base64url")}`;
  const ks = new Keystead({ url: "http://127.0.0.1:9", fingerprint: "m", product: "app", publicKeys: [jwk] });
  const first = await ks.loadActivationFile(token);
  if (!first.valid) throw new Error(`bench token refused: ${first.code}`);
  const noble = await rateAsync(() => ks.check());
  const native = rate(() => crypto.verify(null, Buffer.from(input), publicKey, signature));
  console.log(`offline check()/s (noble, pure JS): ${noble}`);
  console.log(`node:crypto Ed25519 verify/s, same token: ${native}`);
}

async function size() {
  const out = await build({ entryPoints: [new URL("./src/index.ts", import.meta.url).pathname], bundle: true, minify: true, format: "esm", platform: "neutral", write: false });
  const bytes = out.outputFiles[0]!.contents;
  console.log(`core bundle (noble inlined): ${(bytes.length / 1024).toFixed(1)} kB minified, ${(gzipSync(bytes).length / 1024).toFixed(1)} kB gzipped`);
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!.toFixed(2);

async function online(url: string, adminToken: string) {
  const admin = async (route: string, body: unknown) => {
    const res = await fetch(url + route, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${route}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const slug = `bench-${crypto.randomBytes(3).toString("hex")}`;
  await admin("/api/v1/admin/products", { slug, name: slug });
  await admin("/api/v1/admin/plans", { product: slug, slug, name: slug, seats: 1, durationDays: null, entitlements: [], stripePriceIds: [] });
  const { key } = await admin("/api/v1/admin/licenses", { plan: slug, email: `${slug}@example.com` });
  const ks = new Keystead({ url, fingerprint: "bench-machine", storage: memoryStorage() });
  if (!(await ks.activate(key)).ok) throw new Error("activation failed");
  const N = Number(process.env.BENCH_ONLINE ?? 200);
  const time = async (fn: () => Promise<unknown>) => {
    const ms: number[] = [];
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      await fn();
      ms.push(performance.now() - t);
    }
    return ms;
  };
  const body = JSON.stringify({ key, fingerprint: "bench-machine" });
  const bare = await time(async () => {
    const res = await fetch(`${url}/api/v1/licenses/heartbeat`, { method: "POST", headers: { "content-type": "application/json" }, body });
    await res.arrayBuffer();
  });
  const sdk = await time(async () => {
    const r = await ks.check();
    if (r.source !== "online") throw new Error(`check was ${r.source} ${r.code}`);
  });
  console.log(`online, ${N} sequential calls: bare fetch p50 ${pct(bare, 50)} ms p99 ${pct(bare, 99)} ms; check() p50 ${pct(sdk, 50)} ms p99 ${pct(sdk, 99)} ms`);
}

await offline();
await size();
if (process.env.KEYSTEAD_URL && process.env.KEYSTEAD_ADMIN_TOKEN) await online(process.env.KEYSTEAD_URL, process.env.KEYSTEAD_ADMIN_TOKEN);
else console.log("online figures: set KEYSTEAD_URL and KEYSTEAD_ADMIN_TOKEN (a running app) to measure them");
