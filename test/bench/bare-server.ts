// Baseline (b) of the validate benchmark, the machine's ceiling: a bare node:http server that parses the same
// JSON body and does the same indexed lookup (license by key hash, with plan, product and activation count) over
// node-postgres with a named prepared statement. No framework, no validation, no rate limiting.
// POST /activate is baseline (c), activate's ceiling: the same statements as an activation of a machine already
// activated (read the license with this machine's activation, write last-seen on its own) and one Ed25519
// signature, one request at a time per statement (no batching).
import crypto from "node:crypto";
import http from "node:http";
import { Pool } from "pg";
import { hashLicenseKey } from "@/server/domain/licensing/license-key";

const url = process.env.DATABASE_URL!;
const port = Number(process.env.PORT ?? 3100);
const pool = new Pool({ connectionString: url, max: 20 });

const LOOKUP = `
  select l.id, l.status, l.expires_at, l.max_activations, p.slug as plan, p.entitlements, pr.slug as product,
         (select count(*)::int from activations a where a.license_id = l.id) as activations
    from licenses l join plans p on p.id = l.plan_id join products pr on pr.id = p.product_id
   where l.key_hash = $1`;

const FIND = `
  select l.id, l.status, l.expires_at, l.max_activations, p.slug as plan, p.entitlements, pr.slug as product,
         (select count(*)::int from activations c where c.license_id = l.id) as used, a.id as activation_id
    from licenses l join plans p on p.id = l.plan_id join products pr on pr.id = p.product_id
    left join activations a on a.license_id = l.id and a.fingerprint = $2
   where l.key_hash = $1`;
const TOUCH = `update activations set last_seen_at = now() where id = $1 returning id, fingerprint, last_seen_at`;
const signingKey = crypto.generateKeyPairSync("ed25519").privateKey;

async function activate(key: string, fingerprint: string) {
  const { rows: [license] } = await pool.query({ name: "bare_find", text: FIND, values: [hashLicenseKey(key) ?? "", fingerprint] });
  if (!license?.activation_id) throw new Error("no such activation");
  const { rows: [activation] } = await pool.query({ name: "bare_touch", text: TOUCH, values: [license.activation_id] });
  const claims = Buffer.from(JSON.stringify({ license, activation }));
  return { license, activation, token: crypto.sign(null, claims, signingKey).toString("base64url") };
}

http
  .createServer((req, res) => {
    if (req.method === "GET") {
      res.end("ok");
      return;
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      try {
        const { key, fingerprint } = JSON.parse(body);
        if (req.url === "/activate") {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(await activate(String(key), String(fingerprint))));
          return;
        }
        const hash = hashLicenseKey(String(key)) ?? "";
        const { rows } = await pool.query({ name: "bare_lookup", text: LOOKUP, values: [hash] });
        const row = rows[0];
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ valid: !!row, code: row ? "VALID" : "NOT_FOUND", license: row ?? null, activation: null }));
      } catch (err) {
        res.writeHead(500);
        res.end(String(err));
      }
    });
  })
  .listen(port, "127.0.0.1", () => console.log(`bare server on ${port}`));
