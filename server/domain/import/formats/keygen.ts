import type { LicenseStatus } from "@/server/db/schema";
import { eachRow, parseDate, parseEmail, parseLimit, refuse, str, type ForeignActivation, type ForeignLicense, type ParsedFile } from "../types";
import { readJsonApi, relatedId, type Resource } from "./jsonapi";

/**
 * Keygen (https://keygen.sh/docs/api/licenses/): the JSON:API answer of
 * `GET /v1/accounts/{id}/licenses?include=owner,policy` (licenses in `data`, users and policies in `included`),
 * optionally with the answer of `GET /v1/accounts/{id}/machines` beside it (an array of documents) or machines
 * in `included`: each machine (relationships.license) becomes an activation by its fingerprint.
 * Policies are mapped ("policy:<id>"). Statuses: ACTIVE, INACTIVE, EXPIRING -> active; EXPIRED -> expired;
 * SUSPENDED -> suspended; BANNED -> revoked.
 */

const STATUS: Record<string, LicenseStatus> = {
  ACTIVE: "active",
  INACTIVE: "active",
  EXPIRING: "active",
  EXPIRED: "expired",
  SUSPENDED: "suspended",
  BANNED: "revoked",
};

export function parseKeygen(text: string): ParsedFile {
  const doc = readJsonApi(text, "a Keygen licenses document (GET /v1/accounts/{id}/licenses)");
  const licenses = doc.data.filter((r) => r.type === "licenses");
  const machinesByLicense = new Map<string, Resource[]>();
  const seen = new Set<string>();
  for (const m of doc.all) {
    if (m.type !== "machines" || seen.has(m.id)) continue;
    seen.add(m.id);
    const owner = relatedId(m, "license");
    if (!owner) continue;
    machinesByLicense.set(owner, [...(machinesByLicense.get(owner) ?? []), m]);
  }
  return eachRow(licenses, (r, row): ForeignLicense => {
    const a = r.attributes ?? {};
    const key = str(a.key) ?? refuse("no license key");
    const policyId = relatedId(r, "policy") ?? refuse("no policy");
    const policy = doc.get("policies", policyId);
    const ownerId = relatedId(r, "owner") ?? relatedId(r, "user");
    const owner = doc.get("users", ownerId);
    const metadata = (a.metadata ?? {}) as Record<string, unknown>;
    const email = str(owner?.attributes?.email) ?? str(metadata.email) ?? str(metadata.customerEmail);
    const ownerName = [str(owner?.attributes?.firstName), str(owner?.attributes?.lastName)].filter(Boolean).join(" ");
    const rawStatus = (str(a.status) ?? "ACTIVE").toUpperCase();
    const st = a.suspended === true ? "suspended" : (STATUS[rawStatus] ?? refuse(`status "${rawStatus}" is not a Keygen license status`));
    const activations: ForeignActivation[] = (machinesByLicense.get(r.id) ?? []).map((m) => ({
      fingerprint: str(m.attributes?.fingerprint) ?? refuse(`machine ${m.id} has no fingerprint`),
      name: str(m.attributes?.name) ?? str(m.attributes?.hostname),
      platform: str(m.attributes?.platform),
      createdAt: parseDate(m.attributes?.created, "machine created"),
      lastSeenAt: parseDate(m.attributes?.lastHeartbeat ?? m.attributes?.updated, "machine lastHeartbeat"),
      metadata: { keygenMachineId: m.id },
    }));
    return {
      row,
      key,
      email: parseEmail(email ?? ""),
      name: ownerName || str(a.name),
      product: { ref: `policy:${policyId}`, name: str(policy?.attributes?.name) ?? `Keygen policy ${policyId}` },
      status: st,
      maxActivations: parseLimit(a.maxMachines ?? policy?.attributes?.maxMachines, "maxMachines"),
      quantity: 1,
      expiresAt: parseDate(a.expiry, "expiry"),
      createdAt: parseDate(a.created, "created"),
      activations,
      externalId: `keygen:${r.id}`,
    };
  });
}
