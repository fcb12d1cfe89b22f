import type { ReactNode } from "react";

// The tRPC provider is mounted once in the root layout.
export default function DevLayout({ children }: { children: ReactNode }) {
  return children;
}
