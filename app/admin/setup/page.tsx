import type { Metadata } from "next";
import { SetupChecklist } from "./setup-checklist";

export const metadata: Metadata = { title: "Setup" };

export default function AdminSetupPage() {
  return <SetupChecklist />;
}
