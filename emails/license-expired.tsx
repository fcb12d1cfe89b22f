import { Heading, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";
import { ActionButton, LicenseFactsBlock, PREVIEW_LICENSE, accountUrl, formatDate, type LicenseFacts } from "./_components/license-facts";

export type LicenseExpiredEmailProps = {
  appUrl: string;
  license: LicenseFacts;
  /** When it stopped working: its expiry plus any grace days (ISO-8601). */
  expiredAt: string;
};

export const licenseExpiredSubject = ({ license }: Pick<LicenseExpiredEmailProps, "license">) =>
  `Your ${license.productName} license has expired`;

export function LicenseExpiredEmail({ appUrl, license, expiredAt }: LicenseExpiredEmailProps) {
  return (
    <EmailLayout preview={licenseExpiredSubject({ license })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        Your license has expired
      </Heading>
      <Text style={styles.text}>
        {`Your license expired on ${formatDate(expiredAt)} (UTC): your software no longer accepts it, online or offline.`}
      </Text>
      <LicenseFactsBlock license={license} expiry={false} />
      <Text style={styles.text}>
        Renew it to keep using the same key: your activated devices start working again the next time they check in.
        If you think this is a mistake, reply to this email.
      </Text>
      <ActionButton href={accountUrl(appUrl)}>Renew your license</ActionButton>
    </EmailLayout>
  );
}

LicenseExpiredEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  license: PREVIEW_LICENSE,
  expiredAt: "2027-03-05T12:00:00.000Z",
} satisfies LicenseExpiredEmailProps;

export default LicenseExpiredEmail;
