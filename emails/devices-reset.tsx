import { Heading, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";
import { ActionButton, LicenseFactsBlock, PREVIEW_LICENSE, accountUrl, type LicenseFacts } from "./_components/license-facts";

/** To the customer: the operator approved their manual reset request; every device was deactivated. */
export type DevicesResetEmailProps = {
  appUrl: string;
  license: LicenseFacts;
  removed: number;
};

export const devicesResetSubject = ({ license }: Pick<DevicesResetEmailProps, "license">) =>
  `Your ${license.productName} devices were reset`;

export function DevicesResetEmail({ appUrl, license, removed }: DevicesResetEmailProps) {
  return (
    <EmailLayout preview={devicesResetSubject({ license })} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        Your devices were reset
      </Heading>
      <Text style={styles.text}>
        {removed === 0
          ? "We approved your request and reset the license: no device was activated on it any more, so any device can activate it now."
          : `We approved your request: ${removed === 1 ? "the device" : `all ${removed} devices`} activated on this license ${
              removed === 1 ? "was" : "were"
            } deactivated. Enter your key in the app on the devices you use now to activate them again.`}
      </Text>
      <LicenseFactsBlock license={license} />
      <ActionButton href={accountUrl(appUrl)}>See your licenses</ActionButton>
    </EmailLayout>
  );
}

DevicesResetEmail.PreviewProps = { appUrl: "http://localhost:3000", license: PREVIEW_LICENSE, removed: 2 } satisfies DevicesResetEmailProps;

export default DevicesResetEmail;
