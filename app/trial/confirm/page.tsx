import type { Metadata } from "next";
import { db } from "@/server/db/client";
import { readShopSettings } from "@/server/domain/shop/settings";
import { ShopFrame } from "@/app/pricing/shop-frame";
import { ConfirmTrial } from "./confirm-trial";
import css from "@/app/pricing/shop.module.css";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Start your free trial", robots: { index: false }, referrer: "same-origin" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/**
 * Where the emailed trial link lands. Opening it spends nothing (mail scanners open every link); the button
 * confirms it (POST /api/v1/trials/confirm), which issues the trial license.
 */
export default async function ConfirmTrialPage({ searchParams }: Props) {
  const params = await searchParams;
  const settings = await readShopSettings(db());
  const token = typeof params.token === "string" && params.token.length >= 20 && params.token.length <= 200 ? params.token : null;
  return (
    <ShopFrame settings={settings}>
      <div className={css.narrow}>
        {token ? (
          <ConfirmTrial token={token} />
        ) : (
          <>
            <h1>This link is incomplete</h1>
            <p className={css.notice}>
              Part of the trial link is missing; it may have been cut when it was copied. <a href="/pricing">Ask for a new one</a>.
            </p>
          </>
        )}
      </div>
    </ShopFrame>
  );
}
