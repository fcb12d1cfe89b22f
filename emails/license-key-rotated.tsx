import { Button, Heading, Section, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";

export type LicenseKeyRotatedEmailProps = {
  /** APP_URL. */
  appUrl: string;
  productName: string;
  planName: string;
  /** The new key, in full (decrypted at send time). Not `key`: React keeps that prop for itself. */
  licenseKey: string;
  /** Last five characters of the key it replaces, so the customer can tell which one stopped working. */
  previousKeyHint: string;
  seats: number;
};

export const licenseKeyRotatedSubject = (productName: string) => `Your new license key for ${productName}`;

/** Sent when an admin replaces a key (it leaked, or the customer asked): the new key, and that the old one is dead. */
export function LicenseKeyRotatedEmail({ appUrl, productName, planName, licenseKey, previousKeyHint, seats }: LicenseKeyRotatedEmailProps) {
  const seatsText = `${seats} ${seats === 1 ? "seat" : "seats"}`;
  return (
    <EmailLayout preview={licenseKeyRotatedSubject(productName)} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        Your license key has been replaced
      </Heading>
      <Text style={styles.text}>
        {`Your key ending in ${previousKeyHint} has been replaced and no longer works. ` +
          "Here is your new key; enter it in the app wherever it asks for a license."}
      </Text>
      <Section style={{ margin: "8px 0 0" }}>
        <Text style={{ ...styles.text, fontWeight: 600, margin: "0 0 6px" }}>{`${productName} · ${planName}`}</Text>
        <Text style={styles.key}>{licenseKey}</Text>
        <Text style={styles.muted}>{`${seatsText}. Devices already activated keep their seat once the new key is entered on them.`}</Text>
      </Section>
      <Text style={styles.muted}>
        If you did not expect this, reply to this email: someone may have been using your old key.
      </Text>
      <Section style={{ margin: "20px 0 0" }}>
        <Button href={appUrl} style={styles.button}>
          Open the licensing app
        </Button>
      </Section>
    </EmailLayout>
  );
}

LicenseKeyRotatedEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  productName: "Acme Studio",
  planName: "Pro (yearly)",
  licenseKey: "7K3QF-9XW2M-HB4RT-0ZC8N-VD6PJ",
  previousKeyHint: "M2N8B",
  seats: 3,
} satisfies LicenseKeyRotatedEmailProps;

export default LicenseKeyRotatedEmail;
