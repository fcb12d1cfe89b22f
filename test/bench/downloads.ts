// `npm run bench:downloads`: a 500 MB release uploaded (multipart, through the management API) and downloaded
// (through a signed link, whole and by one range) against the built app (`npm run build` first), printing the
// throughput of each and the app's resident memory: idle, and the peak while each transfer ran. Streaming
// means the peak stays near idle whatever the file's size. The app runs on the `keystead_bench_downloads`
// database (created and migrated on first use) with a temporary DATA_DIR, removed at the end.
// BENCH_DOWNLOAD_MB sets another size.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../helpers/ports";
import { benchDatabase } from "./seed";

const SIZE_MB = Number(process.env.BENCH_DOWNLOAD_MB ?? 500);

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024;
}

/** Runs `work` while sampling the app's RSS every 50 ms; returns its result, seconds taken and the peak. */
async function measured<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; seconds: number; peakMb: number }> {
  let peakMb = rssMb(pid);
  const timer = setInterval(() => (peakMb = Math.max(peakMb, rssMb(pid))), 50);
  const started = performance.now();
  try {
    const result = await work();
    return { result, seconds: (performance.now() - started) / 1000, peakMb: Math.max(peakMb, rssMb(pid)) };
  } finally {
    clearInterval(timer);
  }
}

/** A file of `mb` MB (random blocks repeated: the server cannot tell), and its sha256. */
async function makeFile(file: string, mb: number): Promise<string> {
  const block = crypto.randomBytes(1024 * 1024);
  const hash = crypto.createHash("sha256");
  const out = fs.createWriteStream(file);
  for (let i = 0; i < mb; i++) {
    block.writeUInt32LE(i, 0);
    hash.update(block);
    if (!out.write(block)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return hash.digest("hex");
}

/** Reads a response body to its end, hashing it; returns the byte count and the digest. */
async function drain(res: Response): Promise<{ bytes: number; sha256: string }> {
  const hash = crypto.createHash("sha256");
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { bytes, sha256: hash.digest("hex") };
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "keystead-bench-downloads-"));
  const dataDir = path.join(work, "data");
  const source = path.join(work, "release.bin");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const adminToken = crypto.randomBytes(24).toString("hex");
  const auth = { authorization: `Bearer ${adminToken}` };
  const app = spawn(process.execPath, [path.join(process.cwd(), "dist/server.js"), "--hostname", "127.0.0.1"], {
    detached: true,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(port),
      APP_URL: url,
      DATABASE_URL: await benchDatabase("keystead_bench_downloads"),
      AUTH_SECRET: "bench-auth-secret-0123456789abcdef",
      ADMIN_API_TOKEN: adminToken,
      DATA_DIR: dataDir,
      RATE_LIMIT_IP: "0",
      RATE_LIMIT_KEY: "0",
      WORKER: "off",
    },
  });
  try {
    const sha256 = await makeFile(source, SIZE_MB);
    for (let healthy = false, deadline = Date.now() + 60_000; !healthy;) {
      if (Date.now() > deadline) throw new Error(`${url}/api/health did not answer 200 within 60 s`);
      healthy = await fetch(`${url}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (!healthy) await new Promise((r) => setTimeout(r, 250));
    }
    const json = async (route: string, body: unknown, headers: Record<string, string> = auth) => {
      const res = await fetch(url + route, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
      const parsed = (await res.json()) as any;
      if (!res.ok) throw new Error(`${route}: ${res.status} ${JSON.stringify(parsed)}`);
      return parsed;
    };
    const s = crypto.randomBytes(3).toString("hex");
    await json("/api/v1/admin/products", { slug: `bench-${s}`, name: "Bench" });
    await json("/api/v1/admin/plans", { product: `bench-${s}`, slug: `bench-${s}`, name: "Bench", seats: 1, durationDays: null, entitlements: [], stripePriceIds: [] });
    const { key } = await json("/api/v1/admin/licenses", { plan: `bench-${s}`, email: `bench-${s}@example.com` });
    await json("/api/v1/licenses/activate", { key, fingerprint: "bench-machine" }, {});
    // Warm the routes once (Next compiles nothing in production, but first requests load modules), then idle.
    await fetch(`${url}/api/v1/admin/releases`, { headers: auth }).then((r) => r.arrayBuffer());
    await new Promise((r) => setTimeout(r, 1000));
    const idleMb = rssMb(app.pid!);

    const up = await measured(app.pid!, async () => {
      const form = new FormData();
      form.append("product", `bench-${s}`);
      form.append("version", "1.0.0");
      form.append("channel", "stable");
      form.append("file", await fs.openAsBlob(source), "release.bin");
      const res = await fetch(`${url}/api/v1/admin/releases`, { method: "POST", headers: auth, body: form });
      const body = (await res.json()) as any;
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(body)}`);
      return body.release;
    });
    if (up.result.sha256 !== sha256) throw new Error(`upload: the server's sha256 ${up.result.sha256} is not the file's ${sha256}`);

    const latest = await json("/api/v1/releases/latest", { key, fingerprint: "bench-machine" }, {});
    const down = await measured(app.pid!, async () => drain(await fetch(latest.url)));
    if (down.result.bytes !== SIZE_MB * 1024 * 1024 || down.result.sha256 !== sha256) throw new Error("download: the bytes differ from the file");
    const half = (SIZE_MB * 1024 * 1024) / 2;
    const ranged = await measured(app.pid!, async () => drain(await fetch(latest.url, { headers: { range: `bytes=${half}-` } })));
    if (ranged.result.bytes !== half) throw new Error(`range: ${ranged.result.bytes} bytes, expected ${half}`);

    const rate = (seconds: number, mb = SIZE_MB) => `${(mb / seconds).toFixed(0)} MB/s`;
    console.log(`release file: ${SIZE_MB} MB (sha256 checked both ways)`);
    console.log(`app RSS idle: ${idleMb.toFixed(0)} MB`);
    console.log(`upload   (multipart, management API): ${up.seconds.toFixed(1)} s, ${rate(up.seconds)}, peak RSS ${up.peakMb.toFixed(0)} MB (+${(up.peakMb - idleMb).toFixed(0)} MB over idle)`);
    console.log(`download (signed link, whole file):   ${down.seconds.toFixed(1)} s, ${rate(down.seconds)}, peak RSS ${down.peakMb.toFixed(0)} MB (+${(down.peakMb - idleMb).toFixed(0)} MB over idle)`);
    console.log(`download (Range: second half):        ${ranged.seconds.toFixed(1)} s, ${rate(ranged.seconds, SIZE_MB / 2)}, peak RSS ${ranged.peakMb.toFixed(0)} MB (+${(ranged.peakMb - idleMb).toFixed(0)} MB over idle)`);
  } finally {
    process.kill(-app.pid!, "SIGTERM");
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
