import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { appState } from "@/server/db/schema";
import type { DbOrTx, Tx } from "@/server/db/client";
import { recordAudit, type Actor } from "@/server/domain/audit/record";

/**
 * The storefront's look and rules, edited by the operator in the admin app (Settings > Shop) and kept in one
 * app_state row: the shop's name, the text of its logo, its accent colour, the disposable email domains refused
 * for trials, and per plan whether Checkout collects tax automatically and accepts promotion codes.
 */
export const SHOP_SETTINGS_KEY = "shop.settings";

const hexColour = z
  .string()
  .trim()
  .regex(/^#[0-9a-fA-F]{6}$/, "Use a colour like #4f46e5 (a # and six hex digits).")
  .transform((v) => v.toLowerCase());

/** A domain as typed in the list: lower-cased, no leading "@" or dot. */
const domain = z
  .string()
  .trim()
  .toLowerCase()
  .transform((d) => d.replace(/^[@.]+/, ""))
  .pipe(z.string().min(1).max(253).regex(/^[a-z0-9.-]+\.[a-z0-9-]+$/, "Each line must be a domain like mailinator.com."));

export const PlanCheckoutOptions = z.object({
  /** Checkout's automatic_tax (needs Stripe Tax set up in the Stripe account). */
  automaticTax: z.boolean().default(false),
  /** Checkout's allow_promotion_codes. */
  promotionCodes: z.boolean().default(false),
  /** A sentence or two under the plan's name on the pricing page. */
  description: z.string().trim().max(300).default(""),
  /** Off: the plan is not shown on the pricing page (it still issues licenses for its prices). */
  listed: z.boolean().default(true),
});
export type PlanCheckoutOptions = z.infer<typeof PlanCheckoutOptions>;

export const ShopSettingsInput = z.object({
  name: z.string().trim().min(1, "Give the shop a name.").max(80),
  /** Short text shown as the logo (a word, initials). */
  logoText: z.string().trim().min(1, "Give the logo some text.").max(24),
  accentColour: hexColour,
  /** A line of words under the name on the pricing page. */
  tagline: z.string().trim().max(200).default(""),
  disposableDomains: z.array(domain).max(5000).default([]),
  /** By plan id. */
  planOptions: z.record(z.uuid(), PlanCheckoutOptions).default({}),
});
export type ShopSettingsInput = z.input<typeof ShopSettingsInput>;
export type ShopSettings = z.infer<typeof ShopSettingsInput>;

/** A few of the best-known throwaway address services, as a starting list the operator edits. */
export const DEFAULT_DISPOSABLE_DOMAINS = [
  "mailinator.com",
  "guerrillamail.com",
  "10minutemail.com",
  "tempmail.com",
  "temp-mail.org",
  "yopmail.com",
  "trashmail.com",
  "sharklasers.com",
  "dispostable.com",
  "getnada.com",
];

export const DEFAULT_SHOP_SETTINGS: ShopSettings = {
  name: "Keystead",
  logoText: "K",
  accentColour: "#4f46e5",
  tagline: "",
  disposableDomains: DEFAULT_DISPOSABLE_DOMAINS,
  planOptions: {},
};

export async function readShopSettings(db: DbOrTx): Promise<ShopSettings> {
  const [row] = await db.select({ value: appState.value }).from(appState).where(eq(appState.key, SHOP_SETTINGS_KEY));
  if (!row) return DEFAULT_SHOP_SETTINGS;
  // A row written by an older version (or by hand) falls back field by field rather than breaking the shop.
  const parsed = ShopSettingsInput.partial().safeParse(row.value);
  return { ...DEFAULT_SHOP_SETTINGS, ...(parsed.success ? parsed.data : {}) };
}

export async function saveShopSettings(tx: Tx, actor: Actor, input: ShopSettingsInput): Promise<ShopSettings> {
  const value = ShopSettingsInput.parse(input);
  value.disposableDomains = [...new Set(value.disposableDomains)];
  const before = await readShopSettings(tx);
  await tx
    .insert(appState)
    .values({ key: SHOP_SETTINGS_KEY, value })
    .onConflictDoUpdate({ target: appState.key, set: { value, updatedAt: sql`now()` } });
  await recordAudit(tx, actor, {
    action: "shop.settings_updated",
    subjectType: "settings",
    subjectId: SHOP_SETTINGS_KEY,
    before: { ...before, disposableDomains: before.disposableDomains.length },
    after: { ...value, disposableDomains: value.disposableDomains.length },
  });
  return value;
}

/** WCAG relative luminance of a #rrggbb colour. */
export function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** The text colour to put on the accent (buttons, logo): whichever of near-black and white reads better. */
export function textOn(accent: string): "#111827" | "#ffffff" {
  return contrastRatio(accent, "#ffffff") >= contrastRatio(accent, "#111827") ? "#ffffff" : "#111827";
}

/**
 * The accent as used for links and outlines on the white page: the operator's colour, darkened until it
 * reads at 4.5:1 on white (a pale yellow accent still gives readable links).
 */
export function accentOnWhite(accent: string): string {
  let [r, g, b] = [1, 3, 5].map((i) => parseInt(accent.slice(i, i + 2), 16)) as [number, number, number];
  const hex = () => `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, "0")).join("")}`;
  for (let i = 0; i < 40 && contrastRatio(hex(), "#ffffff") < 4.5; i++) [r, g, b] = [r * 0.9, g * 0.9, b * 0.9];
  return hex();
}

/** Whether an address is at one of the refused domains (or a subdomain of one). */
export function isDisposableEmail(email: string, domains: string[]): boolean {
  const at = email.lastIndexOf("@");
  if (at < 0) return false;
  const host = email.slice(at + 1).trim().toLowerCase();
  return domains.some((d) => host === d || host.endsWith(`.${d}`));
}

export function planOptionsFor(settings: ShopSettings, planId: string): PlanCheckoutOptions {
  return settings.planOptions[planId] ?? PlanCheckoutOptions.parse({});
}
