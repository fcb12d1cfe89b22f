import type { Metadata } from "next";
import { TemplatePreviews } from "./template-previews";

export const metadata: Metadata = { title: "Email templates" };

export default function EmailTemplatesPage() {
  return <TemplatePreviews />;
}
