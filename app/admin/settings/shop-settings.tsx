"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Button, Card, ErrorState, Field, LoadingState, Notice, inputClass, mutedClass } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import { MutationError, partsCss as css } from "../licenses/_parts/ui";

type PlanOptions = { automaticTax: boolean; promotionCodes: boolean; description: string; listed: boolean };
const DEFAULT_OPTIONS: PlanOptions = { automaticTax: false, promotionCodes: false, description: "", listed: true };

/** Settings > Shop: how the public pricing page (/pricing) looks, and what its checkouts and trials allow. */
export function ShopSettings() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const shop = useQuery(trpc.settings.shop.queryOptions());
  const save = useMutation(
    trpc.settings.saveShop.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.settings.shop.queryKey() }) }),
  );
  const [name, setName] = useState("");
  const [logoText, setLogoText] = useState("");
  const [accent, setAccent] = useState("#4f46e5");
  const [tagline, setTagline] = useState("");
  const [domains, setDomains] = useState("");
  const [options, setOptions] = useState<Record<string, PlanOptions>>({});

  useEffect(() => {
    if (!shop.data) return;
    const s = shop.data.settings;
    setName(s.name);
    setLogoText(s.logoText);
    setAccent(s.accentColour);
    setTagline(s.tagline);
    setDomains(s.disposableDomains.join("\n"));
    setOptions(s.planOptions as Record<string, PlanOptions>);
  }, [shop.data]);

  if (shop.isPending) return <LoadingState label="Loading shop settings…" />;
  if (shop.isError) return <ErrorState title="Could not load the shop settings." error={shop.error} onRetry={() => void shop.refetch()} />;
  const opt = (id: string) => ({ ...DEFAULT_OPTIONS, ...options[id] });
  const setOpt = (id: string, patch: Partial<PlanOptions>) => setOptions((o) => ({ ...o, [id]: { ...opt(id), ...patch } }));

  return (
    <Card title="Shop">
      <p className={`${css.small} ${mutedClass}`}>
        How the public <a href="/pricing">pricing page</a> looks, and what its checkouts and free trials allow.
      </p>
      <form
        className={css.stack}
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate({
            name,
            logoText,
            accentColour: accent,
            tagline,
            disposableDomains: domains.split(/[\s,]+/).filter(Boolean),
            planOptions: Object.fromEntries(shop.data.plans.map((p) => [p.id, opt(p.id)])),
          });
        }}
      >
        <Field label="Shop name" htmlFor="shop-name">
          <input id="shop-name" className={inputClass} value={name} onChange={(e) => setName(e.target.value)} required maxLength={80} />
        </Field>
        <Field label="Logo text" htmlFor="shop-logo" hint="A word or initials, shown in the accent colour.">
          <input id="shop-logo" className={inputClass} value={logoText} onChange={(e) => setLogoText(e.target.value)} required maxLength={24} />
        </Field>
        <Field label="Accent colour" htmlFor="shop-accent" hint="Buttons and the logo; their text turns black or white, whichever reads better.">
          <span style={{ display: "flex", gap: "0.5rem", alignItems: "center" }}>
            <input type="color" aria-label="Pick the accent colour" value={/^#[0-9a-f]{6}$/i.test(accent) ? accent : "#4f46e5"} onChange={(e) => setAccent(e.target.value)} />
            <input id="shop-accent" className={inputClass} value={accent} onChange={(e) => setAccent(e.target.value)} pattern="#[0-9a-fA-F]{6}" required />
          </span>
        </Field>
        <Field label="Tagline" htmlFor="shop-tagline" hint="One line under the page's title (optional).">
          <input id="shop-tagline" className={inputClass} value={tagline} onChange={(e) => setTagline(e.target.value)} maxLength={200} />
        </Field>
        <Field label="Refused email domains for trials" htmlFor="shop-domains" hint="One domain per line; a trial asked for with an address there is refused (DISPOSABLE_EMAIL).">
          <textarea id="shop-domains" className={inputClass} rows={6} value={domains} onChange={(e) => setDomains(e.target.value)} />
        </Field>
        {shop.data.plans.length > 0 && (
          <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
            <legend style={{ fontWeight: 600, marginBottom: "0.5rem" }}>Plans on the pricing page</legend>
            <div className={css.stack}>
              {shop.data.plans.map((p) => (
                <div key={p.id} style={{ borderTop: "1px solid #e4e4e7", paddingTop: "0.75rem" }}>
                  <strong>{`${p.productName} · ${p.name}`}</strong>
                  {p.trialDays ? <span className={`${css.small} ${mutedClass}`}>{` (offers a ${p.trialDays}-day trial)`}</span> : null}
                  <Field label={`Description of ${p.name}`} htmlFor={`desc-${p.id}`}>
                    <input id={`desc-${p.id}`} className={inputClass} value={opt(p.id).description} maxLength={300} onChange={(e) => setOpt(p.id, { description: e.target.value })} />
                  </Field>
                  <div style={{ display: "flex", flexWrap: "wrap", gap: "0.25rem 1.25rem" }}>
                    <label>
                      <input type="checkbox" checked={opt(p.id).listed} onChange={(e) => setOpt(p.id, { listed: e.target.checked })} /> Listed
                    </label>
                    <label>
                      <input type="checkbox" checked={opt(p.id).automaticTax} onChange={(e) => setOpt(p.id, { automaticTax: e.target.checked })} /> Automatic tax
                    </label>
                    <label>
                      <input type="checkbox" checked={opt(p.id).promotionCodes} onChange={(e) => setOpt(p.id, { promotionCodes: e.target.checked })} /> Promotion codes
                    </label>
                  </div>
                </div>
              ))}
            </div>
          </fieldset>
        )}
        <div>
          <Button type="submit" variant="primary" loading={save.isPending}>
            Save shop settings
          </Button>
        </div>
        {save.isSuccess && <Notice tone="success">Saved. The pricing page shows it now.</Notice>}
        <MutationError error={save.error} />
      </form>
    </Card>
  );
}
