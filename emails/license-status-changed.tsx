import { Heading, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";
import { ActionButton, LicenseFactsBlock, PREVIEW_LICENSE, accountUrl, type LicenseFacts } from "./_components/license-facts";

export type LicenseStatusChange = "suspended" | "revoked" | "reinstated";

export type LicenseStatusChangedEmailProps = {
  appUrl: string;
  license: LicenseFacts;
  status: LicenseStatusChange;
  /** Why, in words the customer may read (the admin's or the system's); null when none was given. */
  reason: string | null;
};

const SUBJECTS: Record<LicenseStatusChange, (product: string) => string> = {
  suspended: (p) => `Your ${p} license is suspended`,
  revoked: (p) => `Your ${p} license has been revoked`,
  reinstated: (p) => `Your ${p} license works again`,
};

export const licenseStatusChangedSubject = ({ license, status }: Pick<LicenseStatusChangedEmailProps, "license" | "status">) =>
  SUBJECTS[status](license.productName);

const HEADINGS: Record<LicenseStatusChange, string> = {
  suspended: "Your license is suspended",
  revoked: "Your license has been revoked",
  reinstated: "Your license works again",
};

// Offline tokens already handed out stay valid until they expire: say "at the latest" rather than promise "now".
const WHAT_IT_MEANS: Record<LicenseStatusChange, string> = {
  suspended:
    "While it is suspended your software stops accepting it: at once when it checks in, and at the latest when the offline permission it holds runs out. Nothing is deleted: once the license is reinstated, the same key and devices work again.",
  revoked:
    "Revoking is final: your software stops accepting this key at once when it checks in, and at the latest when the offline permission it holds runs out. The key cannot be reinstated.",
  reinstated: "You can use it again as before: your software picks this up the next time it checks in.",
};

export function LicenseStatusChangedEmail({ appUrl, license, status, reason }: LicenseStatusChangedEmailProps) {
  return (
    <EmailLayout preview={licenseStatusChangedSubject({ license, status })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        {HEADINGS[status]}
      </Heading>
      <LicenseFactsBlock license={license} expiry={status === "reinstated"} />
      {reason && <Text style={styles.text}>{`Reason: ${reason}`}</Text>}
      <Text style={styles.text}>{WHAT_IT_MEANS[status]}</Text>
      {status !== "reinstated" && (
        <Text style={styles.text}>If you think this is a mistake or have questions, reply to this email.</Text>
      )}
      <ActionButton href={accountUrl(appUrl)}>See your licenses</ActionButton>
    </EmailLayout>
  );
}

LicenseStatusChangedEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  license: PREVIEW_LICENSE,
  status: "suspended",
  reason: "The payment was disputed with your bank; the license is on hold until the dispute is settled.",
} satisfies LicenseStatusChangedEmailProps;

export default LicenseStatusChangedEmail;
