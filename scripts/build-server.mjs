// Bundles the process entries into plain JavaScript, so production runs on `node` and the dependencies alone
// (tsx is a devDependency). Part of `npm run build`; the tests' global setup runs it too.
//   dist/server.js  the door in front of Next (server/http/main.ts); needs only `next` beside it, so it also
//                   runs on Next's standalone output (the image)
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
