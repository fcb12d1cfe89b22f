// @keystead/client: the core, with no Node built-ins (browsers, Electron, Deno, Bun, Node).
export { Keystead, type KeysteadOptions } from "./client";
export { memoryStorage } from "./storage";
export { verifyToken, type TokenClaims, type TokenCheck } from "./token";
export type { ActivateResult, Activation, CheckResult, Code, DeactivateResult, Jwk, LatestReleaseResult, License, Release, ServerCode, Storage } from "./types";
