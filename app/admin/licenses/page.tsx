import type { Metadata } from "next";
import { LicensesList } from "./licenses-list";

export const metadata: Metadata = { title: "Licenses" };

export default function LicensesPage() {
  return <LicensesList />;
}
