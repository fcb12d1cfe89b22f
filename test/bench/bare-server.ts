// Baseline (b) of the validate benchmark, the machine's ceiling: a bare node:http server that parses the same
// JSON body and does the same indexed lookup (license by key hash, with plan, product and activation count) over
// node-postgres with a named prepared statement. No framework, no validation, no rate limiting.
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
        const { key } = JSON.parse(body);
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
