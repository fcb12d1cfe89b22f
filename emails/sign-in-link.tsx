import { Button, Heading, Link, Section, Text } from "@react-email/components";
import { EmailLayout, styles } from "./_components/layout";

export type SignInLinkEmailProps = {
  appUrl: string;
  /** The one-time link: our confirm page, carrying next-auth's callback parameters with its token. */
  url: string;
  /** ISO-8601: when the link stops working. */
  expiresAt: string;
};

export const signInLinkSubject = (appUrl: string) => `Sign in to ${new URL(appUrl).host}`;

export function SignInLinkEmail({ appUrl, url, expiresAt }: SignInLinkEmailProps) {
  const until = new Date(expiresAt).toLocaleString("en-US", {
    month: "long",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "UTC",
    timeZoneName: "short",
  });
  return (
    <EmailLayout preview="Your sign-in link" appUrl={appUrl}>
      <Heading as="h1" style={styles.heading}>
        Sign in
      </Heading>
      <Text style={styles.text}>Use the button below to sign in. The link works once, until {until}.</Text>
      <Section style={{ margin: "8px 0 20px" }}>
        <Button href={url} style={styles.button}>
          Sign in
        </Button>
      </Section>
      <Text style={styles.muted}>If the button does not work, open this address in your browser:</Text>
      <Text style={{ ...styles.muted, ...styles.code }}>
        <Link href={url}>{url}</Link>
      </Text>
      <Text style={styles.muted}>If you did not ask to sign in, ignore this email: nobody can sign in without the link.</Text>
    </EmailLayout>
  );
}

SignInLinkEmail.PreviewProps = {
  appUrl: "http://localhost:3000",
  url: "http://localhost:3000/signin/confirm?callbackUrl=%2Fportal&token=0123456789abcdef&email=buyer%40example.com",
  expiresAt: "2027-03-05T12:00:00.000Z",
} satisfies SignInLinkEmailProps;

export default SignInLinkEmail;
