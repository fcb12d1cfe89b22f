import type { Metadata } from "next";
import { IssueLicenseForm } from "./issue-form";

export const metadata: Metadata = { title: "Issue a license" };

export default function IssueLicensePage() {
  return <IssueLicenseForm />;
}
