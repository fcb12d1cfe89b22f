export default function Home() {
  return (
    <main style={{ maxWidth: 640, margin: "4rem auto", padding: "0 1rem" }}>
      <h1>Keystead</h1>
      <p>Self-hosted software licensing: Stripe payments in, license keys out, online and offline activation.</p>
      <ul>
        <li>
          <a href="/api/health">Health</a>
        </li>
        <li>
          <a href="/api/v1/openapi.json">Management API (OpenAPI)</a>
        </li>
        <li>
          <a href="/dev/mailbox">Dev mailbox</a> (when no email provider is configured)
        </li>
      </ul>
    </main>
  );
}
