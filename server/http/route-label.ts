import fs from "node:fs";
import path from "node:path";

/**
 * Names a request path by its route template (`/admin/licenses/[id]`, not the id itself), so metrics labels stay
 * few whatever paths clients send: the door's own paths as they are, Next's pages and route handlers from the
 * build's routes-manifest.json, Next's assets as one, and anything else as "other".
 */
export function routeLabeller(ownPaths: string[], distDir: string | undefined): (url: string) => string {
  const exact = new Set(ownPaths);
  const dynamic: Array<{ page: string; regex: RegExp }> = [];
  if (distDir) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(distDir, "routes-manifest.json"), "utf8")) as {
        staticRoutes?: Array<{ page: string }>;
        dynamicRoutes?: Array<{ page: string; regex: string }>;
      };
      for (const r of manifest.staticRoutes ?? []) exact.add(r.page);
      for (const r of manifest.dynamicRoutes ?? []) dynamic.push({ page: r.page, regex: new RegExp(r.regex) });
    } catch {
      /* no build beside us (a unit test): own paths only */
    }
  }
  return (url) => {
    const q = url.indexOf("?");
    const p = q === -1 ? url : url.slice(0, q);
    if (exact.has(p)) return p;
    if (p.startsWith("/_next/")) return "/_next/*";
    for (const r of dynamic) if (r.regex.test(p)) return r.page;
    return "other";
  };
}
