import { Heading, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";
import { ActionButton, LicenseFactsBlock, PREVIEW_LICENSE, accountUrl, formatDate, type LicenseFacts } from "./_components/license-facts";

export type LicenseExpiringEmailProps = {
  appUrl: string;
  license: LicenseFacts;
  /** ISO-8601. */
  expiresAt: string;
  /** Whole days left when the email is rendered (1 means "within a day"). */
  daysLeft: number;
  /**
   * How this license is renewed: a cancelled subscription is resumed; anything else (a one-time purchase, a
   * license issued by hand) is renewed by buying again or asking the seller.
   */
  renewal: "resume-subscription" | "renew";
};

const when = (daysLeft: number) => (daysLeft <= 1 ? "within a day" : `in ${daysLeft} days`);

export const licenseExpiringSubject = ({ license, daysLeft }: Pick<LicenseExpiringEmailProps, "license" | "daysLeft">) =>
  `Your ${license.productName} license expires ${when(daysLeft)}`;

export function LicenseExpiringEmail({ appUrl, license, expiresAt, daysLeft, renewal }: LicenseExpiringEmailProps) {
  return (
    <EmailLayout preview={licenseExpiringSubject({ license, daysLeft })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        Your license expires soon
      </Heading>
      <Text style={styles.text}>
        {`Your license expires on ${formatDate(expiresAt)} (UTC), ${when(daysLeft)}, and will not renew by itself. After that your software stops accepting it.`}
      </Text>
      <LicenseFactsBlock license={{ ...license, expiresAt }} />
      {renewal === "resume-subscription" ? (
        <Text style={styles.text}>
          {`To keep it, resume your subscription from your account before ${formatDate(expiresAt)}: the key and your activated devices stay as they are.`}
        </Text>
      ) : (
        <Text style={styles.text}>
          To keep using it, renew from your account, or reply to this email and we will help. Once renewed, the same
          key keeps working and your software picks up the new date the next time it checks in.
        </Text>
      )}
      <ActionButton href={accountUrl(appUrl)}>{renewal === "resume-subscription" ? "Resume your subscription" : "Renew your license"}</ActionButton>
    </EmailLayout>
  );
}

LicenseExpiringEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  license: PREVIEW_LICENSE,
  expiresAt: "2027-03-05T12:00:00.000Z",
  daysLeft: 7,
  renewal: "renew",
} satisfies LicenseExpiringEmailProps;

export default LicenseExpiringEmail;
