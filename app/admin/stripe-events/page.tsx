import type { Metadata } from "next";
import { StripeEventsList } from "./events-list";

export const metadata: Metadata = { title: "Stripe events" };

export default function StripeEventsPage() {
  return <StripeEventsList />;
}
