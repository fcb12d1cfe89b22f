"use client";

import { signOut } from "next-auth/react";
import { useState } from "react";
import { Button, type ButtonVariant } from "@/app/_components";

/** Ends the session (next-auth deletes the database row) and goes back to the sign-in page. */
export function SignOutButton({ variant = "default", small = false }: { variant?: ButtonVariant; small?: boolean }) {
  const [pending, setPending] = useState(false);
  return (
    <Button
      variant={variant}
      size={small ? "small" : "normal"}
      loading={pending}
      onClick={() => {
        setPending(true);
        void signOut({ callbackUrl: "/signin" }).catch(() => setPending(false));
      }}
    >
      Sign out
    </Button>
  );
}
