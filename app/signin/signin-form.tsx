"use client";

import { signIn } from "next-auth/react";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Button, Field, Notice, inputClass } from "@/app/_components";
import { signInErrorMessage } from "./callback-url";
import css from "./signin.module.css";

/** Asks for an email and has next-auth send the link (through our outbox), then shows "check your email". */
export function SignInForm({ callbackUrl, initialError }: { callbackUrl: string; initialError: string | null }) {
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(initialError);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const address = email.trim();
    if (!address.includes("@")) {
      setError("Enter your email address, like name@example.com.");
      return;
    }
    setPending(true);
    setError(null);
    try {
      const result = await signIn("email", { email: address, callbackUrl, redirect: false });
      if (!result || result.error) {
        setError(signInErrorMessage(result?.error ?? "Default"));
        setPending(false);
        return;
      }
      router.push(`/signin/check-email?${new URLSearchParams({ email: address })}`);
    } catch {
      setError("Could not reach the server. Check your connection and try again.");
      setPending(false);
    }
  }

  return (
    <form className={css.form} onSubmit={onSubmit} noValidate>
      {error && <Notice tone="error">{error}</Notice>}
      <Field label="Email address" htmlFor="email">
        <input
          id="email"
          name="email"
          type="email"
          autoComplete="email"
          inputMode="email"
          required
          className={inputClass}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          placeholder="you@example.com"
        />
      </Field>
      <Button type="submit" variant="primary" loading={pending} className={css.full}>
        {pending ? "Sending the link…" : "Email me a sign-in link"}
      </Button>
    </form>
  );
}
