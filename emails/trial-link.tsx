import { Button, Heading, Link, Section, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";

export type TrialLinkEmailProps = {
  appUrl: string;
  /** The one-time confirm page link. */
  url: string;
  productName: string;
  planName: string;
  trialDays: number;
  /** ISO-8601: when the link stops working. */
  expiresAt: string;
};

export const trialLinkSubject = ({ productName }: Pick<TrialLinkEmailProps, "productName">) => `Start your free ${productName} trial`;

export function TrialLinkEmail({ appUrl, url, productName, planName, trialDays, expiresAt }: TrialLinkEmailProps) {
  const until = new Date(expiresAt).toLocaleString("en-US", {
    month: "long",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "UTC",
    timeZoneName: "short",
  });
  return (
    <EmailLayout preview={trialLinkSubject({ productName })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        Start your free trial
      </Heading>
      <Text style={styles.text}>
        {`Confirm this address to start a ${trialDays}-day trial of ${productName} (${planName}). No card needed. Your license key comes by email right after.`}
      </Text>
      <Section style={{ margin: "8px 0 20px" }}>
        <Button href={url} style={styles.button}>
          Start my trial
        </Button>
      </Section>
      <Text style={styles.muted}>{`The link works until ${until}. If the button does not work, open this address in your browser:`}</Text>
      <Text style={{ ...styles.muted, ...styles.code }}>
        <Link href={url}>{url}</Link>
      </Text>
      <Text style={styles.muted}>If you did not ask for a trial, ignore this email: nothing happens without the link.</Text>
    </EmailLayout>
  );
}

TrialLinkEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  url: "http://localhost:3000/trial/confirm?token=0123456789abcdef0123456789abcdef",
  productName: "Acme Editor",
  planName: "Pro",
  trialDays: 14,
  expiresAt: "2027-03-05T12:00:00.000Z",
} satisfies TrialLinkEmailProps;

export default TrialLinkEmail;
