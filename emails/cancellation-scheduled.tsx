import { Heading, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";
import { ActionButton, LicenseFactsBlock, PREVIEW_LICENSE, accountUrl, formatDate, type LicenseFacts } from "./_components/license-facts";

export type CancellationScheduledEmailProps = {
  appUrl: string;
  license: LicenseFacts;
  /** When the subscription ends and the license stops working (ISO-8601). */
  endsAt: string;
};

export const cancellationScheduledSubject = ({ license, endsAt }: Pick<CancellationScheduledEmailProps, "license" | "endsAt">) =>
  `Your ${license.productName} subscription ends on ${formatDate(endsAt)}`;

export function CancellationScheduledEmail({ appUrl, license, endsAt }: CancellationScheduledEmailProps) {
  return (
    <EmailLayout preview={cancellationScheduledSubject({ license, endsAt })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        Your subscription is cancelled
      </Heading>
      <Text style={styles.text}>
        {`Your ${license.planName} subscription will not renew. Your license keeps working until ${formatDate(endsAt)} (UTC); after that your software stops accepting it.`}
      </Text>
      <LicenseFactsBlock license={{ ...license, expiresAt: endsAt }} />
      <Text style={styles.text}>
        {`Changed your mind? Resume the subscription before ${formatDate(endsAt)} and nothing changes: same key, same devices.`}
      </Text>
      <ActionButton href={accountUrl(appUrl)}>Manage your subscription</ActionButton>
    </EmailLayout>
  );
}

CancellationScheduledEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  license: PREVIEW_LICENSE,
  endsAt: "2027-03-05T12:00:00.000Z",
} satisfies CancellationScheduledEmailProps;

export default CancellationScheduledEmail;
