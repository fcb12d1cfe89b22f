import fs from "node:fs/promises";
import path from "node:path";

/**
 * GET /api/v1/docs: the OpenAPI document as a browsable reference (Scalar's standalone build), served from our
 * own node_modules: no CDN, no fonts or telemetry from elsewhere. The page has its own strict policy: scripts from
 * this origin only (the settings script is a file, not inline), styles inline (Scalar injects its stylesheet),
 * nothing framed, no requests but to this origin.
 */

const SCALAR_BUNDLE = path.join(process.cwd(), "node_modules/@scalar/api-reference/dist/browser/standalone.js");

export const REFERENCE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders = {
  "Content-Security-Policy": REFERENCE_CSP,
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Keystead API reference</title>
</head>
<body>
<noscript>This reference needs JavaScript; the document itself is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</noscript>
<!-- Empty: Scalar reads what a mount element holds as the document. -->
<div id="reference"></div>
<script src="/api/v1/docs/scalar.js"></script>
<script src="/api/v1/docs/init.js"></script>
</body>
</html>
`;

// Scalar's settings. Everything that would call another host is off: its fonts, telemetry, the AI agent, MCP,
// the hosted proxy (no proxyUrl: "try it" requests go straight to this origin, which the policy allows).
const INIT = `Scalar.createApiReference("#reference", ${JSON.stringify({
  url: "/api/v1/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
  hideDarkModeToggle: false,
  persistAuth: false,
  metaData: { title: "Keystead API reference" },
})});
`;

export function referencePage(): Response {
  return new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", ...securityHeaders } });
}

let bundle: Promise<Buffer> | undefined;

/** The page's two scripts; anything else is 404. */
export async function referenceAsset(name: string): Promise<Response> {
  const js = { "Content-Type": "text/javascript; charset=utf-8", ...securityHeaders };
  if (name === "init.js") return new Response(INIT, { headers: { ...js, "Cache-Control": "no-cache" } });
  if (name === "scalar.js") {
    bundle ??= fs.readFile(SCALAR_BUNDLE);
    const bytes = await bundle.catch((err) => {
      bundle = undefined;
      throw err;
    });
    return new Response(new Uint8Array(bytes), { headers: { ...js, "Cache-Control": "public, max-age=3600" } });
  }
  return Response.json({ error: { code: "NOT_FOUND", message: "There is no such file." } }, { status: 404 });
}
