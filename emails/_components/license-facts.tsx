import { Button, Section, Text } from "@react-email/components";
import { styles } from "./layout";

/**
 * What a lifecycle email says about the license it is about. Never the key itself: these emails only need to
 * tell licenses apart, so they show the hint (the key's last five characters), as the portal does.
 */
export type LicenseFacts = {
  productName: string;
  planName: string;
  /** Last five characters of the key. */
  keyHint: string;
  seats: number;
  /** ISO-8601, or null for a perpetual license. */
  expiresAt: string | null;
  entitlements: string[];
};

/** "March 5, 2027": the customer reads a date, not a timestamp (dates are UTC everywhere in Keystead). */
export function formatDate(iso: string): string {
  return new Date(iso).toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}

/** Where a customer manages licenses and subscriptions (the customer portal). */
export const accountUrl = (appUrl: string) => `${appUrl}/portal`;

export const seatsText = (n: number) => `${n} ${n === 1 ? "seat" : "seats"}`;

/** The license in one short block: "Acme Studio · Pro" and "Key …-ABCDE · 3 seats". */
export function LicenseFactsBlock({ license: l, expiry = true }: { license: LicenseFacts; expiry?: boolean }) {
  // Plain strings, not JSX fragments: React would put <!-- --> between fragments and split "3 seats" apart.
  const parts = [`Key …-${l.keyHint}`, seatsText(l.seats)];
  if (expiry) parts.push(l.expiresAt ? `valid until ${formatDate(l.expiresAt)} (UTC)` : "never expires");
  return (
    <Section style={{ margin: "4px 0 16px", padding: "12px 14px", background: "#f4f4f5", borderRadius: "6px" }}>
      <Text style={{ ...styles.text, fontWeight: 600, margin: "0 0 4px" }}>{`${l.productName} · ${l.planName}`}</Text>
      <Text style={{ ...styles.muted, margin: 0 }}>{parts.join(" · ")}</Text>
    </Section>
  );
}

export function ActionButton({ href, children }: { href: string; children: string }) {
  return (
    <Section style={{ margin: "20px 0 0" }}>
      <Button href={href} style={styles.button}>
        {children}
      </Button>
    </Section>
  );
}

/** Preview facts shared by the templates' PreviewProps. */
export const PREVIEW_LICENSE: LicenseFacts = {
  productName: "Acme Studio",
  planName: "Pro (yearly)",
  keyHint: "VD6PJ",
  seats: 3,
  expiresAt: "2027-03-05T12:00:00.000Z",
  entitlements: ["export-4k", "cloud-sync"],
};
