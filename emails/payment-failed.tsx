import { Heading, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";
import { ActionButton, LicenseFactsBlock, PREVIEW_LICENSE, accountUrl, formatDate, type LicenseFacts } from "./_components/license-facts";

export type PaymentFailedEmailProps = {
  appUrl: string;
  license: LicenseFacts;
  /** Until when the license keeps working while payment is fixed (ISO-8601); null when unknown. */
  graceEndsAt: string | null;
  /** Stripe's hosted invoice page, when known; otherwise the customer's account. */
  fixPaymentUrl: string | null;
};

export const paymentFailedSubject = ({ license }: Pick<PaymentFailedEmailProps, "license">) =>
  `Payment failed for your ${license.productName} license`;

export function PaymentFailedEmail({ appUrl, license, graceEndsAt, fixPaymentUrl }: PaymentFailedEmailProps) {
  const until = graceEndsAt
    ? `Your license keeps working until ${formatDate(graceEndsAt)} (UTC) while you fix it; after that your software stops accepting it.`
    : "Your license keeps working for now while you fix it.";
  return (
    <EmailLayout preview={paymentFailedSubject({ license })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        We could not collect your payment
      </Heading>
      <Text style={styles.text}>
        {`The payment for your ${license.planName} subscription did not go through (an expired card or a bank's refusal are the usual reasons).`}
      </Text>
      <LicenseFactsBlock license={license} expiry={false} />
      <Text style={styles.text}>{until}</Text>
      <Text style={styles.text}>
        To fix it, update your payment method or pay the open invoice. Your key and your activated devices stay as
        they are.
      </Text>
      <ActionButton href={fixPaymentUrl ?? accountUrl(appUrl)}>Fix your payment</ActionButton>
    </EmailLayout>
  );
}

PaymentFailedEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  license: PREVIEW_LICENSE,
  graceEndsAt: "2027-03-12T12:00:00.000Z",
  fixPaymentUrl: "https://invoice.stripe.com/i/acct_123/test_abc",
} satisfies PaymentFailedEmailProps;

export default PaymentFailedEmail;
