import type { Metadata } from "next";
import { Dashboard } from "./dashboard";

export const metadata: Metadata = { title: "Dashboard" };

// Data comes through tRPC (adminProcedure), never rendered here on the server.
export default function AdminDashboardPage() {
  return <Dashboard />;
}
