import type { Metadata } from "next";
import { StripeEventDetail } from "./event-detail";

export const metadata: Metadata = { title: "Stripe event" };

export default async function StripeEventPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <StripeEventDetail id={decodeURIComponent(id)} />;
}
