import type { Metadata } from "next";
import { Outbox } from "./outbox";

export const metadata: Metadata = { title: "Emails" };

export default function EmailsPage() {
  return <Outbox />;
}
