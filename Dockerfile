# Keystead: one container running the door (web) + worker on Next's standalone output.
# Build:  docker build -t keystead .
# Run:    docker run -p 3000:3000 -e DATABASE_URL=... -e AUTH_SECRET=... keystead   (or: docker compose up)

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# sdk/ is an npm workspace: without its package.json here, npm ci would skip what the SDK build needs.
COPY sdk/package.json ./sdk/
# The embedded PostgreSQL is for `npm run dev` only; the image always talks to DATABASE_URL.
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 NEXT_OUTPUT=standalone
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# next build (standalone), then the door bundled into dist/server.js (scripts/build-server.mjs).
RUN npm run build

FROM node:20-bookworm-slim AS runner
WORKDIR /app
# The door listens on every interface; PORT picks the port. TRUST_PROXY: see README "Behind a reverse proxy".
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000
RUN groupadd --system --gid 1001 keystead && useradd --system --uid 1001 --gid keystead --home /app keystead
# DATA_DIR: uploaded release files (README "Releases and downloads"); mount a volume there and back it up.
ENV DATA_DIR=/data
RUN mkdir -p /data && chown keystead:keystead /data
VOLUME /data
# The traced node_modules and build; static assets are not part of the trace and must be copied beside it.
COPY --from=build --chown=keystead:keystead /app/.next/standalone ./
COPY --from=build --chown=keystead:keystead /app/.next/static ./.next/static
# The door replaces the server.js Next writes: it owns the socket (the client's real address), answers the public
# license routes itself and hands every other request to Next. It needs `next` and `pg` from the traced
# node_modules (one pg for both, so one pool), and reads the build's config from .next/required-server-files.json
# as Next's own standalone server.js would.
COPY --from=build --chown=keystead:keystead /app/dist/server.js ./server.js
# SQL migrations, applied at start-up by the same boot code the tests run (instrumentation.ts -> server/boot.ts).
COPY --from=build --chown=keystead:keystead /app/drizzle ./drizzle
USER keystead
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "server.js"]
