import { Button, Heading, Hr, Section, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";

/** One license as the email shows it; the key is the full, plain key (decrypted at send time). */
export type IssuedLicense = {
  productName: string;
  planName: string;
  key: string;
  seats: number;
  /** ISO-8601, or null for a perpetual license. */
  expiresAt: string | null;
  entitlements: string[];
};

export type LicenseIssuedEmailProps = {
  /** APP_URL: where the activation API and the app live. */
  appUrl: string;
  licenses: IssuedLicense[];
};

export function licenseIssuedSubject(licenses: IssuedLicense[]): string {
  const products = [...new Set(licenses.map((l) => l.productName))];
  if (licenses.length === 1) return `Your license key for ${products[0]}`;
  const suffix = products.length === 1 ? ` for ${products[0]}` : "";
  return `Your ${licenses.length} license keys${suffix}`;
}

/** "March 5, 2027 (UTC)" or "never expires": the customer reads a date, not a timestamp. */
export function formatExpiry(expiresAt: string | null): string {
  if (!expiresAt) return "never expires";
  const date = new Date(expiresAt).toLocaleDateString("en-US", {
    year: "numeric",
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });
  return `expires ${date} (UTC)`;
}

export function LicenseIssuedEmail({ appUrl, licenses }: LicenseIssuedEmailProps) {
  const many = licenses.length > 1;
  const activateUrl = `${appUrl}/api/v1/licenses/activate`;
  return (
    <EmailLayout preview={licenseIssuedSubject(licenses)} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        {many ? "Your license keys" : "Your license key"}
      </Heading>
      <Text style={styles.text}>
        {`Thank you for your purchase. ${many ? "Here are your license keys" : "Here is your license key"}; ` +
          "keep this email somewhere safe."}
      </Text>
      {licenses.map((license, i) => (
        <LicenseBlock key={i} license={license} />
      ))}

      <Hr style={{ borderColor: "#e4e4e7", margin: "24px 0 16px" }} />
      <Heading as="h2" style={{ ...styles.heading, fontSize: "17px", margin: "0 0 8px" }}>
        How to activate
      </Heading>
      <Text style={styles.text}>
        Open the app and enter the key when it asks for a license. Each device you activate uses one seat; you can free
        a seat by deactivating the app on a device you no longer use.
      </Text>
      <Text style={styles.muted}>
        For developers: activate with <span style={styles.code}>{`POST ${activateUrl}`}</span> and the JSON body{" "}
        <span style={styles.code}>{`{"key": "<your key>", "fingerprint": "<device id>"}`}</span>.
      </Text>
      <Section style={{ margin: "20px 0 0" }}>
        <Button href={appUrl} style={styles.button}>
          Open the licensing app
        </Button>
      </Section>
    </EmailLayout>
  );
}

function LicenseBlock({ license: l }: { license: IssuedLicense }) {
  // Plain strings, not JSX fragments: React would put <!-- --> between fragments and split "3 seats" apart.
  const seats = `${l.seats} ${l.seats === 1 ? "seat" : "seats"} (devices it can be active on at once)`;
  return (
    <Section style={{ margin: "20px 0 0" }}>
      <Text style={{ ...styles.text, fontWeight: 600, margin: "0 0 6px" }}>{`${l.productName} · ${l.planName}`}</Text>
      <Text style={styles.key}>{l.key}</Text>
      <Text style={styles.muted}>{`${seats} · ${capitalize(formatExpiry(l.expiresAt))}`}</Text>
      {l.entitlements.length > 0 && <Text style={styles.muted}>{`Includes: ${l.entitlements.join(", ")}`}</Text>}
    </Section>
  );
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

LicenseIssuedEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  licenses: [
    {
      productName: "Acme Studio",
      planName: "Pro (yearly)",
      key: "7K3QF-9XW2M-HB4RT-0ZC8N-VD6PJ",
      seats: 3,
      expiresAt: "2027-03-05T12:00:00.000Z",
      entitlements: ["export-4k", "cloud-sync"],
    },
    {
      productName: "Acme Studio",
      planName: "Lifetime",
      key: "M2N8B-4QZ7T-W9KXR-3HC5D-1FGYP",
      seats: 1,
      expiresAt: null,
      entitlements: [],
    },
  ],
} satisfies LicenseIssuedEmailProps;

export default LicenseIssuedEmail;
