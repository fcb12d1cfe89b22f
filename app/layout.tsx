import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import { TRPCReactProvider } from "@/app/_trpc/client";
import "./globals.css";

export const metadata: Metadata = {
  title: "Keystead",
  description: "Self-hosted software licensing",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Rendered per request, never at build time: the script nonce of the page's Content-Security-Policy
  // (proxy.ts) exists only then, and a prerendered page's scripts would carry none.
  await connection();
  return (
    <html lang="en">
      <body>
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </body>
    </html>
  );
}
