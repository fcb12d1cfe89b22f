import Link from "next/link";
import { LinkButton } from "@/app/_components";

export default function Home() {
  return (
    <main style={{ maxWidth: 640, margin: "0 auto", padding: "12vh 1rem 2rem" }}>
      <h1 style={{ margin: "0 0 0.5rem" }}>Keystead</h1>
      <p style={{ color: "#52525b", lineHeight: 1.5 }}>
        Self-hosted software licensing: Stripe payments in, license keys out, online and offline activation.
      </p>
      <div style={{ display: "flex", flexWrap: "wrap", gap: "0.5rem", margin: "1.5rem 0" }}>
        <LinkButton href="/pricing" variant="primary">
          Pricing
        </LinkButton>
        <LinkButton href="/portal">Your licenses</LinkButton>
        <LinkButton href="/admin">Admin</LinkButton>
      </div>
      <p style={{ color: "#52525b", lineHeight: 1.5 }}>
        Customers sign in with the email they bought with to see their keys and devices. Operators listed in
        ADMIN_EMAILS manage everything in the admin app.
      </p>
      <ul style={{ lineHeight: 1.8, paddingLeft: "1.2rem" }}>
        <li>
          <a href="/api/health">Health</a>
        </li>
        <li>
          <a href="/api/v1/openapi.json">Management API (OpenAPI)</a>
        </li>
        <li>
          <Link href="/dev/mailbox">Dev mailbox</Link> (when no email provider is configured)
        </li>
      </ul>
    </main>
  );
}
