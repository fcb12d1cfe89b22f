// Builds the two entries (core, node) as ESM and CommonJS. Dependencies stay external (they install with
// the package); the node entry imports the core's own file, so `Keystead` is one class whichever entry loads it.
import { build } from "esbuild";

const coreAs = (file) => ({
  name: "core-external",
  setup(b) {
    b.onResolve({ filter: /^\.\/index$/ }, (args) => (args.importer.endsWith("node.ts") ? { path: file, external: true } : undefined));
  },
});

const common = { bundle: true, packages: "external", platform: "neutral", target: "es2022", sourcemap: true, logLevel: "warning" };

await Promise.all([
  build({ ...common, entryPoints: ["src/index.ts"], format: "esm", outfile: "dist/index.js" }),
  build({ ...common, entryPoints: ["src/index.ts"], format: "cjs", outfile: "dist/index.cjs" }),
  build({ ...common, entryPoints: ["src/node.ts"], format: "esm", outfile: "dist/node.js", platform: "node", plugins: [coreAs("./index.js")] }),
  build({ ...common, entryPoints: ["src/node.ts"], format: "cjs", outfile: "dist/node.cjs", platform: "node", plugins: [coreAs("./index.cjs")] }),
]);
