// Builds the two entries (core, node) as ESM and CommonJS, with type declarations for both. Dependencies stay
// external (they install with the package); the node entry imports the core's own file, so `Keystead` is one
// class whichever entry loads it.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
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

if (!process.argv.includes("--no-types")) {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" });
  // Consumers with moduleResolution node16 need relative imports that name files: .js for the ESM
  // declarations, and a .d.cts twin of each (importing .cjs) for CommonJS.
  for (const file of readdirSync("dist").filter((f) => f.endsWith(".d.ts"))) {
    const text = readFileSync(`dist/${file}`, "utf8");
    const withExt = (ext) => text.replace(/(from |import\()"(\.\/[^".]+)"/g, `$1"$2${ext}"`);
    writeFileSync(`dist/${file}`, withExt(".js"));
    writeFileSync(`dist/${file.replace(/\.d\.ts$/, ".d.cts")}`, withExt(".cjs"));
  }
}
