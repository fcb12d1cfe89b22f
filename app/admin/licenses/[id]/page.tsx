import type { Metadata } from "next";
import { LicenseDetail } from "./license-detail";

export const metadata: Metadata = { title: "License" };

export default async function LicensePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <LicenseDetail id={id} />;
}
