import { Body, Container, Head, Hr, Html, Link, Preview, Section, Text } from "@react-email/components";
import type { CSSProperties, ReactNode } from "react";

/** The frame every Keystead email shares: preview line, a narrow white card, a footer pointing home. */
export function EmailLayout({ preview, appUrl, children }: { preview: string; appUrl: string; children: ReactNode }) {
  return (
    <Html lang="en">
      <Head />
      <Preview>{preview}</Preview>
      <Body style={body}>
        <Container style={container}>
          <Section>{children}</Section>
          <Hr style={rule} />
          <Text style={footer}>
            Sent by the licensing service at <Link href={appUrl}>{appUrl.replace(/^https?:\/\//, "")}</Link>.
          </Text>
        </Container>
      </Body>
    </Html>
  );
}

export const styles = {
  heading: { fontSize: "22px", fontWeight: 600, margin: "0 0 16px" },
  text: { fontSize: "15px", lineHeight: "24px", margin: "0 0 12px" },
  muted: { fontSize: "13px", lineHeight: "20px", color: "#555", margin: "0 0 8px" },
  key: {
    fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
    // 15px keeps a 29-character key on one line on a 360px-wide phone; if it must wrap, it wraps at a dash.
    fontSize: "15px",
    background: "#f4f4f5",
    border: "1px solid #e4e4e7",
    borderRadius: "6px",
    padding: "10px 12px",
    margin: "0 0 12px",
  },
  code: {
    fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
    fontSize: "13px",
    background: "#f4f4f5",
    padding: "1px 4px",
    borderRadius: "4px",
    // URLs and JSON have no break points: without this a phone shows the email wider than its screen.
    wordBreak: "break-all",
  },
  button: {
    background: "#111",
    color: "#fff",
    borderRadius: "6px",
    padding: "10px 16px",
    fontSize: "15px",
    textDecoration: "none",
  },
} satisfies Record<string, CSSProperties>;

const body: CSSProperties = {
  background: "#f6f6f7",
  fontFamily: "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
  color: "#111",
  margin: 0,
  padding: "24px 0",
};
const container: CSSProperties = {
  background: "#fff",
  border: "1px solid #e4e4e7",
  borderRadius: "8px",
  maxWidth: "560px",
  margin: "0 auto",
  padding: "28px 24px",
};
const rule: CSSProperties = { borderColor: "#e4e4e7", margin: "24px 0 12px" };
const footer: CSSProperties = { fontSize: "12px", lineHeight: "18px", color: "#71717a", margin: 0 };
