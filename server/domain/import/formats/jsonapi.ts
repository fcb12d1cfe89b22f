import { unreadable } from "../types";

/** A JSON:API resource (https://jsonapi.org): what Lemon Squeezy's and Keygen's APIs answer. */
export type Resource = {
  type: string;
  id: string;
  attributes?: Record<string, unknown>;
  relationships?: Record<string, { data?: { type: string; id: string } | { type: string; id: string }[] | null }>;
};

/**
 * Every resource of one or more JSON:API documents (a list answer's pages may be sent as an array of
 * documents), `data` and `included` alike, and a lookup by type and id.
 */
export function readJsonApi(text: string, what: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw unreadable(what);
  }
  const docs = Array.isArray(parsed) ? parsed : [parsed];
  const data: Resource[] = [];
  const included: Resource[] = [];
  for (const doc of docs) {
    if (!doc || typeof doc !== "object" || !("data" in doc)) throw unreadable(what);
    const d = (doc as { data: unknown }).data;
    for (const r of Array.isArray(d) ? d : [d]) if (isResource(r)) data.push(r);
    const inc = (doc as { included?: unknown }).included;
    if (Array.isArray(inc)) for (const r of inc) if (isResource(r)) included.push(r);
  }
  const byKey = new Map<string, Resource>();
  for (const r of [...included, ...data]) byKey.set(`${r.type}:${r.id}`, r);
  return { data, included, all: [...data, ...included], get: (type: string, id: string | undefined | null) => (id ? byKey.get(`${type}:${id}`) : undefined) };
}

function isResource(r: unknown): r is Resource {
  return !!r && typeof r === "object" && typeof (r as Resource).type === "string" && (typeof (r as Resource).id === "string" || typeof (r as Resource).id === "number");
}

export function relatedId(r: Resource, name: string): string | null {
  const d = r.relationships?.[name]?.data;
  if (!d || Array.isArray(d)) return null;
  return String(d.id);
}
