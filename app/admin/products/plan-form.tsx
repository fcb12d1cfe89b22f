"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Button, Field, inputClass } from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { RouterOutputs } from "../licenses/_parts/types";
import { MutationError, partsCss as css } from "../licenses/_parts/ui";

/** A slug suggested from a name ("Acme Studio" -> "acme-studio"). */
export const slugify = (s: string) =>
  s
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64);

type Plan = RouterOutputs["catalog"]["list"]["plans"][number];

const list = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
const optionalNumber = (s: string) => (s.trim() === "" ? null : Number(s));

/** Creates a plan for a product, or edits one (the slug is fixed once made). Durations in the units people use. */
export function PlanForm({ product, plan, onDone }: { product: string; plan?: Plan; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState(plan?.name ?? "");
  const [slug, setSlug] = useState(plan?.slug ?? "");
  const [seats, setSeats] = useState(String(plan?.seats ?? 1));
  const [duration, setDuration] = useState(plan?.durationDays ? String(plan.durationDays) : "");
  const [grace, setGrace] = useState(String(plan?.graceDays ?? 0));
  const [entitlements, setEntitlements] = useState(plan?.entitlements.join(", ") ?? "");
  const [prices, setPrices] = useState(plan?.stripePriceIds.join(", ") ?? "");
  const [tokenDays, setTokenDays] = useState(plan?.offlineTokenTtlSeconds ? String(plan.offlineTokenTtlSeconds / 86_400) : "");
  const [heartbeatMinutes, setHeartbeatMinutes] = useState(plan?.heartbeatWindowSeconds ? String(plan.heartbeatWindowSeconds / 60) : "");
  const [airGappedDays, setAirGappedDays] = useState(plan?.airGappedTtlDays ? String(plan.airGappedTtlDays) : "");
  const [trialDays, setTrialDays] = useState(plan?.trialDays ? String(plan.trialDays) : "");
  const [resetCooldown, setResetCooldown] = useState(String(plan?.resetCooldownDays ?? 30));
  const [externalIds, setExternalIds] = useState(plan?.externalIds.join(", ") ?? "");

  const options = {
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: trpc.catalog.pathKey() });
      onDone();
    },
  };
  const create = useMutation(trpc.catalog.createPlan.mutationOptions(options));
  const update = useMutation(trpc.catalog.updatePlan.mutationOptions(options));
  const mutation = plan ? update : create;
  const id = (field: string) => `plan-${plan?.slug ?? `new-${product}`}-${field}`;

  return (
    <form
      className={css.inlineForm}
      aria-label={plan ? `Edit plan ${plan.name}` : `New plan for ${product}`}
      onSubmit={(e) => {
        e.preventDefault();
        const tokenTtl = optionalNumber(tokenDays);
        const heartbeat = optionalNumber(heartbeatMinutes);
        const fields = {
          name: name.trim(),
          seats: Number(seats),
          durationDays: optionalNumber(duration),
          graceDays: Number(grace || 0),
          entitlements: list(entitlements),
          stripePriceIds: list(prices),
          offlineTokenTtlSeconds: tokenTtl === null ? null : Math.round(tokenTtl * 86_400),
          heartbeatWindowSeconds: heartbeat === null ? null : Math.round(heartbeat * 60),
          airGappedTtlDays: optionalNumber(airGappedDays),
          trialDays: optionalNumber(trialDays),
          resetCooldownDays: Number(resetCooldown || 0),
          externalIds: list(externalIds),
        };
        if (plan) update.mutate({ plan: plan.slug, ...fields });
        else create.mutate({ product, slug: slug.trim(), ...fields });
      }}
    >
      <strong>{plan ? `Edit ${plan.name}` : "New plan"}</strong>
      <Field label="Name" htmlFor={id("name")}>
        <input
          id={id("name")}
          className={inputClass}
          value={name}
          onChange={(e) => {
            if (!plan && (!slug || slug === slugify(`${product}-${name}`))) setSlug(slugify(`${product}-${e.target.value}`));
            setName(e.target.value);
          }}
          required
        />
      </Field>
      {!plan && (
        <Field label="Slug" htmlFor={id("slug")} hint="Unique across products; offline tokens carry it. It cannot change later.">
          <input id={id("slug")} className={inputClass} value={slug} onChange={(e) => setSlug(e.target.value)} pattern="[a-z0-9\-]{1,64}" required />
        </Field>
      )}
      <Field label="Seats" htmlFor={id("seats")} hint="Devices per unit bought; a checkout of quantity 3 gets 3 × this. Changing it affects new licenses only.">
        <input id={id("seats")} type="number" min={1} className={inputClass} value={seats} onChange={(e) => setSeats(e.target.value)} required />
      </Field>
      <Field label="Duration in days" htmlFor={id("duration")} hint="Empty: perpetual (or, for a subscription price, the subscription's period decides).">
        <input id={id("duration")} type="number" min={1} className={inputClass} value={duration} onChange={(e) => setDuration(e.target.value)} />
      </Field>
      <Field label="Grace days" htmlFor={id("grace")} hint="How long a license keeps working past its expiry or a failed renewal.">
        <input id={id("grace")} type="number" min={0} className={inputClass} value={grace} onChange={(e) => setGrace(e.target.value)} />
      </Field>
      <Field label="Entitlements" htmlFor={id("entitlements")} hint="Comma-separated feature names client software can check.">
        <input id={id("entitlements")} className={inputClass} value={entitlements} onChange={(e) => setEntitlements(e.target.value)} />
      </Field>
      <Field label="Stripe price ids" htmlFor={id("prices")} hint="Comma-separated price_… ids; a paid checkout of any of them issues this plan.">
        <input id={id("prices")} className={inputClass} value={prices} onChange={(e) => setPrices(e.target.value)} spellCheck={false} />
      </Field>
      <Field label="Offline token lifetime in days" htmlFor={id("token")} hint="Empty: the server's OFFLINE_TOKEN_TTL.">
        <input id={id("token")} type="number" min={0.001} step="any" className={inputClass} value={tokenDays} onChange={(e) => setTokenDays(e.target.value)} />
      </Field>
      <Field label="Heartbeat window in minutes" htmlFor={id("heartbeat")} hint="Floating seats: a device silent this long frees its seat. Empty: seats never lapse.">
        <input id={id("heartbeat")} type="number" min={1} step="any" className={inputClass} value={heartbeatMinutes} onChange={(e) => setHeartbeatMinutes(e.target.value)} />
      </Field>
      <Field
        label="Activation file lifetime in days"
        htmlFor={id("airgapped")}
        hint="Machines that never go online get a signed file valid this long (never past the license's expiry). Empty: no activation files."
      >
        <input id={id("airgapped")} type="number" min={1} step={1} className={inputClass} value={airGappedDays} onChange={(e) => setAirGappedDays(e.target.value)} />
      </Field>
      <Field label="Free trial in days" htmlFor={id("trial")} hint="A card-free trial offered on the pricing page. Empty: no trial.">
        <input id={id("trial")} type="number" min={1} max={365} step={1} className={inputClass} value={trialDays} onChange={(e) => setTrialDays(e.target.value)} />
      </Field>
      <Field label="Device reset cooldown in days" htmlFor={id("reset")} hint="Customers may reset all their devices themselves once per this many days. 0: any time.">
        <input id={id("reset")} type="number" min={0} step={1} className={inputClass} value={resetCooldown} onChange={(e) => setResetCooldown(e.target.value)} />
      </Field>
      <Field label="External ids" htmlFor={id("external")} hint="Comma-separated ids other systems know this plan by (a storefront template's tier id, a Stripe product id).">
        <input id={id("external")} className={inputClass} value={externalIds} onChange={(e) => setExternalIds(e.target.value)} spellCheck={false} />
      </Field>
      <MutationError error={mutation.error} />
      <div className={css.row}>
        <Button type="submit" variant="primary" loading={mutation.isPending}>
          {plan ? "Save plan" : "Create plan"}
        </Button>
        <Button onClick={onDone}>Cancel</Button>
      </div>
    </form>
  );
}
