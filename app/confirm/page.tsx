import type { Metadata } from "next";
import Link from "next/link";
import { Button } from "@/app/_components";
import { SignInCard } from "@/app/signin/card";
import css from "@/app/signin/signin.module.css";
import { db } from "@/server/db/client";
import { previewConfirmation, type ConfirmationPreview } from "@/server/domain/portal/confirmations";

export const metadata: Metadata = { title: "Confirm · Keystead", robots: { index: false } };
export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const REFUSED: Record<Exclude<ConfirmationPreview, { ok: true }>["reason"], { title: string; text: string }> = {
  INVALID: { title: "This link does not work", text: "Part of the link may be missing; it may have been cut when it was copied." },
  USED: { title: "This link was already used", text: "Each link works once. Nothing more needs doing." },
  EXPIRED: { title: "This link has expired", text: "Links work for an hour. Ask for a new one in your account." },
};

/**
 * Where an emailed portal link lands (a key replacement, or proving another address). Opening it changes nothing
 * (mail scanners open every link); the button posts the token to /api/portal/confirm, which makes the change.
 */
export default async function ConfirmPage({ searchParams }: Props) {
  const params = await searchParams;
  const token = typeof params.token === "string" ? params.token : "";
  const preview = await previewConfirmation(db(), token);
  const failed = params.error === "expired";
  return (
    <SignInCard>
      {preview.ok && !failed ? (
        <>
          <h1 className={css.title}>{preview.purpose === "rotate-key" ? "Replace your license key" : "Confirm this email address"}</h1>
          <p className={css.lead}>
            {preview.purpose === "rotate-key" ? (
              <>
                The {preview.productName} key ending in <strong>{preview.keyHint}</strong> stops working at once, and we email you a new one.
                Your subscription, seats and devices stay; enter the new key on each device.
              </>
            ) : (
              <>
                The account that asked will also see the licenses bought with <strong>{preview.email}</strong>, and their keys.
              </>
            )}
          </p>
          <form method="post" action="/api/portal/confirm" className={css.form}>
            <input type="hidden" name="token" value={token} />
            <Button type="submit" variant={preview.purpose === "rotate-key" ? "danger" : "primary"} className={css.full}>
              {preview.purpose === "rotate-key" ? "Replace my key" : "Confirm this address"}
            </Button>
          </form>
          <p className={css.footer}>If you did not ask for this, close this page: nothing changes without the button.</p>
        </>
      ) : (
        <>
          <h1 className={css.title}>{failed ? REFUSED.EXPIRED.title : REFUSED[(preview as { reason: keyof typeof REFUSED }).reason].title}</h1>
          <p className={css.lead}>{failed ? REFUSED.EXPIRED.text : REFUSED[(preview as { reason: keyof typeof REFUSED }).reason].text}</p>
          <p className={css.footer}>
            <Link href="/portal">Go to your licenses</Link>
          </p>
        </>
      )}
    </SignInCard>
  );
}
