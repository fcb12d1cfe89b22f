import { Button, Heading, Section, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";

export type WebhookDisabledEmailProps = {
  appUrl: string;
  url: string;
  /** ISO-8601: the first failed attempt of this run of failures. */
  failingSince: string;
  /** Where the operator sees the endpoint's delivery log and turns it back on. */
  endpointUrl: string;
};

export const webhookDisabledSubject = (p: Pick<WebhookDisabledEmailProps, "url">) => `Webhook endpoint disabled: ${new URL(p.url).host}`;

/** To the operators (ADMIN_EMAILS): an endpoint failed every delivery for five days and was turned off. */
export function WebhookDisabledEmail({ appUrl, url, failingSince, endpointUrl }: WebhookDisabledEmailProps) {
  const since = new Date(failingSince).toLocaleString("en-US", { dateStyle: "long", timeStyle: "short", timeZone: "UTC" });
  return (
    <EmailLayout preview={`Deliveries to ${url} failed for 5 days`} appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        A webhook endpoint was disabled
      </Heading>
      <Text style={styles.text}>
        Every delivery to <span style={styles.code}>{url}</span> has failed since {since} UTC, so Keystead stopped sending to it.
      </Text>
      <Text style={styles.text}>
        Events that happen while it is disabled are kept. Once the receiver works again, enable the endpoint and replay what it
        missed from its page.
      </Text>
      <Section style={{ margin: "8px 0 20px" }}>
        <Button href={endpointUrl} style={styles.button}>
          Open the endpoint
        </Button>
      </Section>
    </EmailLayout>
  );
}

WebhookDisabledEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  url: "https://hooks.example.com/keystead",
  failingSince: "2027-03-01T08:30:00.000Z",
  endpointUrl: "http://localhost:3000/admin/webhooks/00000000-0000-4000-8000-000000000000",
} satisfies WebhookDisabledEmailProps;

export default WebhookDisabledEmail;
