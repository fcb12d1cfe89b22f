import type { Metadata } from "next";
import Link from "next/link";
import { SignInCard } from "@/app/signin/card";
import css from "@/app/signin/signin.module.css";

export const metadata: Metadata = { title: "Done · Keystead", robots: { index: false } };
export const dynamic = "force-dynamic";

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/** After a confirmed portal change: what happened, in words. */
export default async function ConfirmDonePage({ searchParams }: Props) {
  const { what } = await searchParams;
  const text =
    what === "rotated"
      ? { title: "Your key has been replaced", lead: "The old key no longer works. Your new key is on its way by email, and it is in your account too." }
      : what === "linked"
        ? { title: "Address added", lead: "Its licenses now show in your account next to your own." }
        : { title: "Nothing was changed", lead: "The license changed since the link was sent (it may have been revoked). Contact the seller if you need help." };
  return (
    <SignInCard>
      <h1 className={css.title}>{text.title}</h1>
      <p className={css.lead}>{text.lead}</p>
      <p className={css.footer}>
        <Link href="/portal">Go to your licenses</Link>
      </p>
    </SignInCard>
  );
}
