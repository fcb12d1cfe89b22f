import { Heading, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";
import { ActionButton, LicenseFactsBlock, PREVIEW_LICENSE, accountUrl, formatDate, type LicenseFacts } from "./_components/license-facts";

export type RenewalReceiptEmailProps = {
  appUrl: string;
  license: LicenseFacts;
  /** The new expiry (ISO-8601). */
  renewedUntil: string;
};

export const renewalReceiptSubject = ({ license, renewedUntil }: Pick<RenewalReceiptEmailProps, "license" | "renewedUntil">) =>
  `Your ${license.productName} license is renewed until ${formatDate(renewedUntil)}`;

export function RenewalReceiptEmail({ appUrl, license, renewedUntil }: RenewalReceiptEmailProps) {
  return (
    <EmailLayout preview={renewalReceiptSubject({ license, renewedUntil })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        Your license is renewed
      </Heading>
      <Text style={styles.text}>
        {`Thank you: your subscription renewed, and your license now runs until ${formatDate(renewedUntil)} (UTC).`}
      </Text>
      <LicenseFactsBlock license={{ ...license, expiresAt: renewedUntil }} />
      <Text style={styles.text}>
        There is nothing to do: your key stays the same, and your software picks up the new date the next time it
        checks in.
      </Text>
      <ActionButton href={accountUrl(appUrl)}>See your licenses</ActionButton>
    </EmailLayout>
  );
}

RenewalReceiptEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  license: PREVIEW_LICENSE,
  renewedUntil: "2028-03-05T12:00:00.000Z",
} satisfies RenewalReceiptEmailProps;

export default RenewalReceiptEmail;
