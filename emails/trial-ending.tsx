import { Heading, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";
import { ActionButton, LicenseFactsBlock, PREVIEW_LICENSE, accountUrl, formatDate, type LicenseFacts } from "./_components/license-facts";

export type TrialEndingEmailProps = {
  appUrl: string;
  license: LicenseFacts;
  /** ISO-8601. */
  trialEndsAt: string;
  /** True when a subscription with a payment method follows the trial by itself. */
  converts: boolean;
};

export const trialEndingSubject = ({ license, trialEndsAt }: Pick<TrialEndingEmailProps, "license" | "trialEndsAt">) =>
  `Your ${license.productName} trial ends on ${formatDate(trialEndsAt)}`;

export function TrialEndingEmail({ appUrl, license, trialEndsAt, converts }: TrialEndingEmailProps) {
  const date = formatDate(trialEndsAt);
  return (
    <EmailLayout preview={trialEndingSubject({ license, trialEndsAt })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        Your trial ends soon
      </Heading>
      <Text style={styles.text}>{`Your ${license.productName} trial ends on ${date} (UTC).`}</Text>
      <LicenseFactsBlock license={license} expiry={false} />
      {converts ? (
        <Text style={styles.text}>
          {`Your ${license.planName} subscription starts then and the first payment is taken; the license keeps working with the same key. To stop instead, cancel from your account before ${date}.`}
        </Text>
      ) : (
        <Text style={styles.text}>
          {`After ${date} your software stops accepting this license unless you subscribe. Subscribe from your account to keep the same key and your activated devices.`}
        </Text>
      )}
      <ActionButton href={accountUrl(appUrl)}>{converts ? "Manage your subscription" : "Subscribe"}</ActionButton>
    </EmailLayout>
  );
}

TrialEndingEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  license: { ...PREVIEW_LICENSE, planName: "Pro (monthly)", expiresAt: "2027-03-05T12:00:00.000Z" },
  trialEndsAt: "2027-03-05T12:00:00.000Z",
  converts: false,
} satisfies TrialEndingEmailProps;

export default TrialEndingEmail;
