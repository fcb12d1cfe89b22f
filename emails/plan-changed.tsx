import { Heading, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";
import { ActionButton, LicenseFactsBlock, PREVIEW_LICENSE, accountUrl, seatsText, type LicenseFacts } from "./_components/license-facts";

export type PlanChangedEmailProps = {
  appUrl: string;
  /** The license as it is now, on the new plan. */
  license: LicenseFacts;
  fromPlan: { name: string; entitlements: string[] };
  /** Seats before the change, when known. */
  previousSeats: number | null;
  /** Devices activated right now. */
  activations: number;
};

export const planChangedSubject = ({ license }: Pick<PlanChangedEmailProps, "license">) =>
  `Your ${license.productName} license is now on ${license.planName}`;

export function PlanChangedEmail({ appUrl, license, fromPlan, previousSeats, activations }: PlanChangedEmailProps) {
  const added = license.entitlements.filter((e) => !fromPlan.entitlements.includes(e));
  const removed = fromPlan.entitlements.filter((e) => !license.entitlements.includes(e));
  const seats =
    previousSeats !== null && previousSeats !== license.seats
      ? `Seats: ${previousSeats} → ${license.seats} (devices it can be active on at once).`
      : `Seats: ${license.seats} (devices it can be active on at once).`;
  const over = activations - license.seats;
  return (
    <EmailLayout preview={planChangedSubject({ license })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        Your plan changed
      </Heading>
      <Text style={styles.text}>
        {`Your license moved from ${fromPlan.name} to ${license.planName}. Your key stays the same and your activated devices stay activated.`}
      </Text>
      <LicenseFactsBlock license={license} />
      <Text style={styles.text}>{seats}</Text>
      {added.length > 0 && <Text style={styles.text}>{`Now included: ${added.join(", ")}.`}</Text>}
      {removed.length > 0 && <Text style={styles.text}>{`No longer included: ${removed.join(", ")}.`}</Text>}
      {license.entitlements.length > 0 && added.length === 0 && removed.length === 0 && (
        <Text style={styles.muted}>{`Includes: ${license.entitlements.join(", ")}`}</Text>
      )}
      {over > 0 && (
        <Text style={styles.text}>
          {`${activations} devices are activated but the new plan allows ${seatsText(license.seats)}: they keep working, but no new device can be activated until you deactivate ${over === 1 ? "one" : over} of them.`}
        </Text>
      )}
      <ActionButton href={accountUrl(appUrl)}>See your licenses</ActionButton>
    </EmailLayout>
  );
}

PlanChangedEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  license: { ...PREVIEW_LICENSE, planName: "Team (yearly)", seats: 10, entitlements: ["export-4k", "cloud-sync", "sso"] },
  fromPlan: { name: "Pro (yearly)", entitlements: ["export-4k", "cloud-sync"] },
  previousSeats: 3,
  activations: 2,
} satisfies PlanChangedEmailProps;

export default PlanChangedEmail;
