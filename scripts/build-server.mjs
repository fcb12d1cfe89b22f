// Bundles the process entries into plain JavaScript, so production runs on `node` and the dependencies alone
// (tsx is a devDependency). Part of `npm run build`; the tests' global setup runs it too.
//   dist/server.js  the door in front of Next (server/http/main.ts) and the license routes it answers itself;
//                   needs only `next` and `pg` beside it (both in Next's standalone output, the image, since
//                   pg is one of Next's serverExternalPackages). pg stays external so the door and Next's
//                   bundles load one copy: the pool they share (server/db/client.ts) is one pg Pool.
//   dist/worker.js  `npm run worker` (server/jobs/main.ts), against the installed node_modules
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
  build({ ...common, entryPoints: ["server/http/main.ts"], outfile: "dist/server.js", external: ["next", "next/*", "pg"] }),
  build({ ...common, entryPoints: ["server/jobs/main.ts"], outfile: "dist/worker.js", packages: "external" }),
]);
