import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.dirname(fileURLToPath(import.meta.url)) } },
  test: {
    include: ["test/**/*.test.ts", "server/**/*.test.ts", "emails/**/*.test.ts?(x)"],
    globalSetup: ["test/global-setup.ts"],
    // Integration files start their own app servers and databases; two cores are better spent one file at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The same secret the test app servers get (test/helpers/app.ts), so keys sealed by test factories open there.
    env: { AUTH_SECRET: "test-auth-secret-0123456789abcdef" },
  },
});
