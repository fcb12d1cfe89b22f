import { Button, Heading, Link, Section, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";

export type PortalConfirmEmailProps = {
  appUrl: string;
  purpose: "rotate-key" | "add-email";
  /** The one-time link: our confirm page, which asks for a click before anything changes. */
  url: string;
  /** ISO-8601: when the link stops working. */
  expiresAt: string;
  /** rotate-key: which key would be replaced ("…-ABCDE") and of what. */
  keyHint?: string | null;
  productName?: string | null;
  /** add-email: the address that asked to see this address's licenses. */
  requestedBy?: string | null;
};

export const portalConfirmSubject = (p: Pick<PortalConfirmEmailProps, "purpose" | "productName">) =>
  p.purpose === "rotate-key" ? `Confirm: replace your ${p.productName ?? ""} license key`.replace("  ", " ") : "Confirm this email address";

const until = (iso: string) =>
  new Date(iso).toLocaleString("en-US", { month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC", timeZoneName: "short" });

/** The link a portal change waits for: a key replacement, or proving another address. */
export function PortalConfirmEmail({ appUrl, purpose, url, expiresAt, keyHint, productName, requestedBy }: PortalConfirmEmailProps) {
  const rotate = purpose === "rotate-key";
  return (
    <EmailLayout preview={portalConfirmSubject({ purpose, productName })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        {rotate ? "Replace your license key?" : "Confirm this email address"}
      </Heading>
      <Text style={styles.text}>
        {rotate
          ? `You asked to replace the ${productName ?? ""} license key ending in ${keyHint ?? "…"}. Once you confirm, that key stops working at once and we email you the new one. Your subscription, seats and devices stay as they are; enter the new key on each device.`
          : `${requestedBy ?? "Someone"} asked to see the licenses bought with this address in their account. Confirm only if that is you: the account will see these licenses and their keys.`}
      </Text>
      <Section style={{ margin: "8px 0 20px" }}>
        <Button href={url} style={styles.button}>
          {rotate ? "Replace my key" : "Confirm this address"}
        </Button>
      </Section>
      <Text style={styles.muted}>{`The link works once, until ${until(expiresAt)}. If the button does not work, open this address in your browser:`}</Text>
      <Text style={{ ...styles.muted, ...styles.code }}>
        <Link href={url}>{url}</Link>
      </Text>
      <Text style={styles.muted}>If you did not ask for this, ignore this email: nothing changes without the link.</Text>
    </EmailLayout>
  );
}

PortalConfirmEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  purpose: "rotate-key",
  url: "http://localhost:3000/confirm?token=0123456789abcdef0123456789abcdef0123456789a",
  expiresAt: "2027-03-05T12:00:00.000Z",
  keyHint: "…-M2N8B",
  productName: "Acme Studio",
  requestedBy: null,
} satisfies PortalConfirmEmailProps;

export default PortalConfirmEmail;
