import type { Metadata } from "next";
import { WebsiteErrors } from "./website-errors";

export const metadata: Metadata = { title: "Website errors" };

export default function WebsiteErrorsPage() {
  return <WebsiteErrors />;
}
