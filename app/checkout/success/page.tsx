import type { Metadata } from "next";
import { db } from "@/server/db/client";
import { readShopSettings } from "@/server/domain/shop/settings";
import { ShopFrame } from "@/app/pricing/shop-frame";
import { SuccessView } from "./success-view";
import css from "@/app/pricing/shop.module.css";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Thank you", robots: { index: false }, referrer: "same-origin" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

// GET /checkout/success?session_id=...: where Stripe sends the buyer; waits for the license, then shows it.
export default async function CheckoutSuccessPage({ searchParams }: Props) {
  const params = await searchParams;
  const settings = await readShopSettings(db());
  const sessionId = typeof params.session_id === "string" && /^cs_[A-Za-z0-9_]{1,255}$/.test(params.session_id) ? params.session_id : null;
  return (
    <ShopFrame settings={settings}>
      <div className={css.narrow}>
        {sessionId ? (
          <SuccessView sessionId={sessionId} />
        ) : (
          <>
            <h1>Nothing to show here</h1>
            <p className={css.notice}>
              This page needs the link Stripe sends you to after paying. If you have paid, your license key is on its way by
              email; you can also find it in <a href="/portal">your account</a>.
            </p>
          </>
        )}
      </div>
    </ShopFrame>
  );
}
