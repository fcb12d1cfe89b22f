import { Heading, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";
import { ActionButton, LicenseFactsBlock, PREVIEW_LICENSE, formatDate, type LicenseFacts } from "./_components/license-facts";

/** To the operators (ADMIN_EMAILS): a customer inside the reset cooldown asks for a manual reset of all devices. */
export type ResetRequestedEmailProps = {
  appUrl: string;
  license: LicenseFacts;
  licenseId: string;
  customerEmail: string;
  /** When the license was last reset (ISO-8601), if ever. */
  lastResetAt: string | null;
  /** When the customer could reset it themselves again (ISO-8601). */
  nextAllowedAt: string | null;
  devices: number;
  message: string | null;
};

export const resetRequestedSubject = ({ customerEmail, license }: Pick<ResetRequestedEmailProps, "customerEmail" | "license">) =>
  `Manual device reset requested: ${license.productName} (${customerEmail})`;

export function ResetRequestedEmail(p: ResetRequestedEmailProps) {
  return (
    <EmailLayout preview={resetRequestedSubject(p)} appUrl={p.appUrl}>
      <Heading as="h1" style={styles.heading}>
        A customer asks for a device reset
      </Heading>
      <Text style={styles.text}>
        {`${p.customerEmail} wants every device of this license reset. The license was reset ${
          p.lastResetAt ? `on ${formatDate(p.lastResetAt)}` : "recently"
        }, so its own reset is not allowed again until ${p.nextAllowedAt ? formatDate(p.nextAllowedAt) : "later"}.`}
      </Text>
      <LicenseFactsBlock license={p.license} expiry={false} />
      <Text style={styles.muted}>{`${p.devices} ${p.devices === 1 ? "device is" : "devices are"} activated now.`}</Text>
      {p.message && <Text style={styles.text}>{`Their message: ${p.message}`}</Text>}
      <Text style={styles.text}>Approve it in the admin app with one click (the customer is emailed), or dismiss it.</Text>
      <ActionButton href={`${p.appUrl}/admin/licenses/${p.licenseId}`}>Open the request</ActionButton>
    </EmailLayout>
  );
}

ResetRequestedEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  license: PREVIEW_LICENSE,
  licenseId: "00000000-0000-4000-8000-000000000000",
  customerEmail: "buyer@example.com",
  lastResetAt: "2027-02-20T12:00:00.000Z",
  nextAllowedAt: "2027-03-22T12:00:00.000Z",
  devices: 3,
  message: "My laptop was stolen and I replaced it.",
} satisfies ResetRequestedEmailProps;

export default ResetRequestedEmail;
