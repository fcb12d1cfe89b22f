import { db } from "@/server/db/client";
import { activateLicense } from "@/server/domain/licensing/activate";
import { deactivateLicense } from "@/server/domain/licensing/deactivate";
import { recordHeartbeat } from "@/server/domain/licensing/heartbeat";
import { ActivateLicenseInput, DeactivateLicenseInput, HeartbeatInput, ValidateLicenseInput } from "@/server/domain/licensing/inputs";
import { validateLicense } from "@/server/domain/licensing/validate";
import { publishedKeys } from "@/server/domain/tokens/keyring";
import { countUsage } from "@/server/domain/usage/counter";
import { latestRelease } from "@/server/domain/releases/access";
import { LatestReleaseInput } from "@/server/domain/releases/inputs";
import { DOWNLOAD_PATH } from "@/server/domain/releases/links";
import { serveDownload } from "@/server/domain/releases/serve";
import { env } from "@/server/env";
import { limit, methodNotAllowed, publicGetRoute, publicJsonRoute, toErrorResponse, type RouteMethods } from "./handler";
import { clientIp } from "./rate-limit";

/**
 * The public license routes, defined once. Two doors serve them with this same code: the process's node:http
 * door answers them itself (server/http/door.ts, the hot path, without Next's request machinery), and the
 * Next route files under app/api/v1 export them for a request that reaches Next some other way.
 */

// POST /api/v1/licenses/validate: every outcome is a 200 answer with a code (CONTRACT.md).
export const validateRoute: RouteMethods = {
  ...methodNotAllowed("POST"),
  POST: publicJsonRoute({ name: "validate", input: ValidateLicenseInput, key: (i) => i.key }, async (input) => {
    // Counted in memory and flushed every few seconds: no write on this hot path.
    countUsage("validations", db);
    return { body: await validateLicense(db(), input) };
  }),
};

// POST /api/v1/licenses/activate: 201 new activation, 200 when this machine was already activated.
export const activateRoute: RouteMethods = {
  ...methodNotAllowed("POST"),
  POST: publicJsonRoute({ name: "activate", input: ActivateLicenseInput, key: (i) => i.key }, async (input) => {
    const { status, ...body } = await activateLicense(db(), input);
    if (status === 201) countUsage("activations", db);
    return { status, body };
  }),
};

// POST /api/v1/licenses/deactivate: frees this machine's seat.
export const deactivateRoute: RouteMethods = {
  ...methodNotAllowed("POST"),
  POST: publicJsonRoute({ name: "deactivate", input: DeactivateLicenseInput, key: (i) => i.key }, async (input) => ({
    body: await deactivateLicense(db(), input),
  })),
};

// POST /api/v1/licenses/heartbeat: records that the machine is alive and hands it a fresh offline token.
export const heartbeatRoute: RouteMethods = {
  ...methodNotAllowed("POST"),
  POST: publicJsonRoute({ name: "heartbeat", input: HeartbeatInput, key: (i) => i.key }, async (input) => ({
    body: await recordHeartbeat(db(), input),
  })),
};

// GET /api/v1/jwks (also /.well-known/jwks.json): every public key whose tokens may still be valid.
export const jwksRoute: RouteMethods = {
  ...methodNotAllowed("GET"),
  GET: publicGetRoute(async () => ({
    body: { keys: await publishedKeys(db()) },
    // Short: a verifier that meets an unknown kid after a rotation should find the new key soon.
    headers: { "Cache-Control": "public, max-age=60" },
  })),
};

// POST /api/v1/releases/latest: the seller's own updater asks for the newest release this machine may have.
export const latestReleaseRoute: RouteMethods = {
  ...methodNotAllowed("POST"),
  POST: publicJsonRoute({ name: "releases-latest", input: LatestReleaseInput, key: (i) => i.key }, async (input) => ({
    body: await latestRelease(db(), input),
  })),
};

// GET /api/v1/releases/download?r=&l=&e=&s=: a signed link (server/domain/releases/links.ts) answers the file.
// Not a signed answer: the link's own MAC is what the client trusts, and the ETag is the file's sha256.
export const downloadRoute: RouteMethods = {
  ...methodNotAllowed("GET"),
  GET: async (req) => {
    try {
      await limit(`ip:${clientIp(req)}`, env().RATE_LIMIT_IP);
      return await serveDownload(db(), req);
    } catch (err) {
      return toErrorResponse(err);
    }
  },
};

/** What the node:http door answers itself, by exact path; every other path (and method) goes to Next. */
export const doorRoutes: Record<string, RouteMethods> = {
  "/api/v1/licenses/validate": validateRoute,
  "/api/v1/licenses/activate": activateRoute,
  "/api/v1/licenses/deactivate": deactivateRoute,
  "/api/v1/licenses/heartbeat": heartbeatRoute,
  "/api/v1/jwks": jwksRoute,
  "/.well-known/jwks.json": jwksRoute,
  "/api/v1/releases/latest": latestReleaseRoute,
  [DOWNLOAD_PATH]: downloadRoute,
};
