import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activations, emailOutbox, licenses, portalConfirmations } from "@/server/db/schema";
import { startApp, type TestApp } from "./helpers/app";
import { makeCustomer, makeLicense, makePlan, makeProduct } from "./helpers/factories";
import { signIn, type Browserless } from "./helpers/sign-in";
import { startSmtpCatcher, type SmtpCatcher } from "./helpers/smtp-catcher";

// The portal's emailed confirmations against the built app: replacing a compromised key (the old key stops at
// once; seats and devices stay) and proving another address (its licenses then show), each only through the
// link sent to the right mailbox, once, and never for another customer's license.

let app: TestApp;
let catcher: SmtpCatcher;
beforeAll(async () => {
  catcher = await startSmtpCatcher();
  app = await startApp({ env: { SMTP_URL: catcher.url } });
});
afterAll(async () => {
  await app?.stop();
  await catcher?.stop();
});

const unique = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}@example.com`;

async function customerWithActivatedLicense(email: string) {
  const db = app.database.db;
  const customer = await makeCustomer(db, email);
  const product = await makeProduct(db, { name: "Acme Studio" });
  const plan = await makePlan(db, { productId: product.id, seats: 3 });
  const { license, key } = await makeLicense(db, { planId: plan.id, customerId: customer.id });
  for (const fingerprint of ["laptop-1", "desktop-1"]) {
    const res = await app.post("/api/v1/licenses/activate", { key, fingerprint });
    expect(res.status).toBe(201);
  }
  return { customer, license, key };
}

const mutate = (client: Browserless, name: string, input: unknown) =>
  client.request(`/api/trpc/portal.${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: app.url },
    body: JSON.stringify(input),
  });

const confirmLinkIn = (text: string) => /(http:\/\/\S+\/confirm\?token=[A-Za-z0-9_-]{43})/.exec(text)?.[1];

/** Opens the emailed link's page (changes nothing), then presses its button from our own origin. */
async function pressConfirm(client: Browserless, link: string, origin = app.url) {
  const page = await client.request(link);
  expect(page.status).toBe(200);
  const html = await page.text();
  const token = /name="token" value="([^"]+)"/.exec(html)?.[1];
  return {
    html,
    go: await client.request("/api/portal/confirm", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin },
      body: new URLSearchParams({ token: token ?? "" }),
    }),
  };
}

describe("replacing a compromised key from the portal", () => {
  it("emails a link to the license's address; clicking it stops the old key at once, keeps seats and devices, and emails the new key", async () => {
    const email = unique("rotor");
    const { license, key } = await customerWithActivatedLicense(email);
    const client = await signIn(app.url, catcher, email);

    const before = catcher.messages.length;
    const asked = await mutate(client, "requestKeyRotation", { licenseId: license.id });
    expect(asked.status, await asked.clone().text()).toBe(200);
    expect((await asked.json()).result.data.sentTo).toBe(email);
    const message = await catcher.waitFor(before + 1);
    expect(message.to).toContain(email);
    const link = confirmLinkIn(message.text);
    expect(link, message.text).toBeDefined();

    // Asking changed nothing yet, and opening the page (as a mail scanner does) changes nothing either.
    expect((await app.post("/api/v1/licenses/validate", { key })).body.code).toBe("VALID");
    const page = await client.request(link!);
    expect(await page.text()).toContain("Replace my key");
    expect((await app.post("/api/v1/licenses/validate", { key })).body.code).toBe("VALID");

    // A form on another site cannot press the button.
    const foreign = await pressConfirm(client, link!, "https://evil.example");
    expect(foreign.go.status).toBe(403);
    expect((await app.post("/api/v1/licenses/validate", { key })).body.code).toBe("VALID");

    const beforeNewKey = catcher.messages.length;
    const { go } = await pressConfirm(client, link!);
    expect(go.status).toBe(303);
    expect(go.headers.get("location")).toBe("/confirm/done?what=rotated");

    expect((await app.post("/api/v1/licenses/validate", { key })).body.code).toBe("NOT_FOUND");
    const newKeyMail = await catcher.waitFor(beforeNewKey + 1);
    const newKey = /([0-9A-Z]{5}(?:-[0-9A-Z]{5}){4})/.exec(newKeyMail.text)?.[1];
    expect(newKey).toBeDefined();
    expect(newKey).not.toBe(key);
    const validated = await app.post("/api/v1/licenses/validate", { key: newKey, fingerprint: "laptop-1" });
    expect(validated.body).toMatchObject({ valid: true, code: "VALID", license: { id: license.id, activations: 2, maxActivations: 3 } });
    const devices = await app.database.db.select().from(activations).where(eq(activations.licenseId, license.id));
    expect(devices.map((d) => d.fingerprint).sort()).toEqual(["desktop-1", "laptop-1"]);

    // The link works once.
    const again = await pressConfirm(client, link!);
    expect(again.html).toContain("This link was already used");
    const [row] = await app.database.db.select().from(licenses).where(eq(licenses.id, license.id));
    const replay = await client.request("/api/portal/confirm", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
      body: new URLSearchParams({ token: new URL(link!).searchParams.get("token")! }),
    });
    expect(replay.status).toBe(303);
    expect(replay.headers.get("location")).toContain("error=expired");
    const [after] = await app.database.db.select().from(licenses).where(eq(licenses.id, license.id));
    expect(after!.keyHash).toBe(row!.keyHash);
  });

  it("is not found for another customer's license, and sends nothing", async () => {
    const victim = await customerWithActivatedLicense(unique("victim"));
    const attackerEmail = unique("attacker");
    await customerWithActivatedLicense(attackerEmail);
    const attacker = await signIn(app.url, catcher, attackerEmail);
    const outboxBefore = (await app.database.db.select().from(emailOutbox)).length;
    const res = await mutate(attacker, "requestKeyRotation", { licenseId: victim.license.id });
    expect(res.status).toBe(404);
    expect((await res.json()).error.data.appCode).toBe("NOT_FOUND");
    expect((await app.database.db.select().from(emailOutbox)).length).toBe(outboxBefore);
    expect((await app.database.db.select().from(portalConfirmations).where(eq(portalConfirmations.licenseId, victim.license.id))).length).toBe(0);
  });

  it("is rate limited per signed-in customer", async () => {
    const email = unique("hasty");
    const { license } = await customerWithActivatedLicense(email);
    const client = await signIn(app.url, catcher, email);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await mutate(client, "requestKeyRotation", { licenseId: license.id })).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });
});

describe("adding another email address", () => {
  it("shows the other address's licenses only after the link sent to that address is clicked", async () => {
    const personal = unique("personal");
    const work = unique("work");
    await makeCustomer(app.database.db, personal);
    const bought = await customerWithActivatedLicense(work);
    const client = await signIn(app.url, catcher, personal);

    const listed = async () => (await (await client.request("/api/trpc/portal.licenses")).json()).result.data as { id: string; email: string }[];
    expect(await listed()).toEqual([]);

    const before = catcher.messages.length;
    const asked = await mutate(client, "addEmail", { email: work.toUpperCase() });
    expect(asked.status, await asked.clone().text()).toBe(200);
    const message = await catcher.waitFor(before + 1);
    expect(message.to.join(",").toLowerCase()).toContain(work);
    // The email says who asked, so the owner of the address can tell a stranger's request from their own.
    expect(message.text).toContain(personal);
    expect(await listed()).toEqual([]);

    const { go } = await pressConfirm(client, confirmLinkIn(message.text)!);
    expect(go.headers.get("location")).toBe("/confirm/done?what=linked");
    const now = await listed();
    expect(now.map((l) => l.id)).toEqual([bought.license.id]);
    expect(now[0]!.email).toBe(work);

    // The linked license is theirs to use in the portal: its key can be revealed.
    const reveal = await mutate(client, "revealKey", { licenseId: bought.license.id });
    expect((await reveal.json()).result.data.key).toBe(bought.key);
    const emails = (await (await client.request("/api/trpc/portal.emails")).json()).result.data;
    expect(emails).toEqual([
      { email: personal, primary: true },
      { email: work, primary: false },
    ]);
  });

  it("refuses an address that is not one, and the signed-in address itself", async () => {
    const email = unique("self");
    await makeCustomer(app.database.db, email);
    const client = await signIn(app.url, catcher, email);
    const bad = await mutate(client, "addEmail", { email: "not an email" });
    expect(bad.status).toBe(400);
    const self = await mutate(client, "addEmail", { email });
    expect(self.status).toBe(400);
    expect((await self.json()).error.message).toContain("signed in with");
  });
});

describe("the confirm page", () => {
  it("explains a link that is cut or unknown, without a button", async () => {
    for (const path of ["/confirm", "/confirm?token=short", `/confirm?token=${"A".repeat(43)}`]) {
      const res = await fetch(app.url + path);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain("This link does not work");
      expect(html).not.toContain('action="/api/portal/confirm"');
    }
  });
});
