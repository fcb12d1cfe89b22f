// `npm run soak`: the fault scenarios of test/faults*.test.ts with bigger numbers, printing one figure line each
// (for the release note). Needs what the tests need: `npm run build`, PostgreSQL at DATABASE_URL (or the embedded
// one), Redis on 127.0.0.1:6379 for the scale-out part. Bounded: each scenario stops by itself.
//
//   npm run soak                       # defaults below
//   SOAK_CHECKOUTS=5000 npm run soak   # a bigger burst for the kill -9 scenario
import path from "node:path";

async function main() {
  // vitest/node is ESM only: imported, not required (this script runs as CommonJS under tsx).
  const { startVitest } = await import("vitest/node");
  const file = path.join(process.cwd(), "test/bench/soak.run.ts");
  const vitest = await startVitest("test", [file], {
    include: ["test/bench/soak.run.ts"],
    watch: false,
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
  });
  await vitest?.close();
  const failed = vitest?.state.getFiles().some((f) => f.result?.state === "fail") ?? true;
  process.exit(failed ? 1 : 0);
}

void main();
