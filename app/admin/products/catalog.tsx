"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  Badge,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  Field,
  Ident,
  Idents,
  LoadingState,
  PageHeader,
  Table,
  errorMessage,
  inputClass,
  mutedClass,
} from "@/app/_components";
import { useTRPC } from "@/app/_trpc/client";
import type { RouterOutputs } from "../licenses/_parts/types";
import { durationText, MutationError, partsCss as css } from "../licenses/_parts/ui";
import { PlanForm, slugify } from "./plan-form";

type Product = RouterOutputs["catalog"]["list"]["products"][number];
type Plan = RouterOutputs["catalog"]["list"]["plans"][number];

/** Products and their plans: what Keystead sells, which Stripe prices issue which plan, and the plan's rules. */
export function Catalog() {
  const trpc = useTRPC();
  const catalog = useQuery(trpc.catalog.list.queryOptions());
  const [creating, setCreating] = useState(false);

  return (
    <>
      <PageHeader
        title="Products & plans"
        description="A product is what client software checks; a plan sets seats, duration, grace and entitlements, and is bound to the Stripe prices that sell it."
        actions={
          <Button variant="primary" onClick={() => setCreating((v) => !v)} aria-expanded={creating}>
            New product
          </Button>
        }
      />
      {creating && <NewProduct onDone={() => setCreating(false)} />}
      {catalog.isPending ? (
        <LoadingState label="Loading products…" />
      ) : catalog.isError ? (
        <ErrorState title="Could not load products." error={catalog.error} onRetry={() => void catalog.refetch()} />
      ) : catalog.data.products.length === 0 ? (
        <EmptyState title="No products yet." action={!creating && <Button onClick={() => setCreating(true)}>Create the first product</Button>}>
          Create a product, then a plan bound to your Stripe price: a paid checkout of that price issues a license.
        </EmptyState>
      ) : (
        <div className={css.stack}>
          {catalog.data.products.map((p) => (
            <ProductCard key={p.id} product={p} plans={catalog.data.plans.filter((pl) => pl.product === p.slug)} />
          ))}
        </div>
      )}
    </>
  );
}

function useInvalidateCatalog() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: trpc.catalog.pathKey() });
}

function NewProduct({ onDone }: { onDone: () => void }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateCatalog();
  const [slug, setSlug] = useState("");
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.catalog.createProduct.mutationOptions({
      onSuccess: async () => {
        await invalidate();
        onDone();
      },
    }),
  );
  return (
    <div style={{ marginBottom: "1rem" }}>
      <Card title="New product">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ slug: slug.trim(), name: name.trim() });
          }}
        >
          <Field label="Name" htmlFor="product-name">
            <input
              id="product-name"
              className={inputClass}
              value={name}
              onChange={(e) => {
                const next = e.target.value;
                // Suggest a slug from the name until the person edits the slug themselves.
                if (slug === slugify(name)) setSlug(slugify(next));
                setName(next);
              }}
              required
            />
          </Field>
          <Field label="Slug" htmlFor="product-slug" hint="Lowercase letters, digits and dashes. Client software sends it as `product`; it cannot change later.">
            <input id="product-slug" className={inputClass} value={slug} onChange={(e) => setSlug(e.target.value)} pattern="[a-z0-9\-]{1,64}" required />
          </Field>
          <MutationError error={create.error} />
          <div className={css.row} style={{ marginTop: "0.5rem" }}>
            <Button type="submit" variant="primary" loading={create.isPending}>
              Create product
            </Button>
            <Button onClick={onDone}>Cancel</Button>
          </div>
        </form>
      </Card>
    </div>
  );
}

function ProductCard({ product, plans }: { product: Product; plans: Plan[] }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateCatalog();
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(product.name);
  const [addingPlan, setAddingPlan] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<{ kind: "product" } | { kind: "plan"; plan: Plan } | null>(null);

  const rename = useMutation(
    trpc.catalog.updateProduct.mutationOptions({
      onSuccess: async () => {
        setRenaming(false);
        await invalidate();
      },
    }),
  );
  const retireProduct = useMutation(trpc.catalog.setProductRetired.mutationOptions({ onSuccess: async () => (setConfirm(null), await invalidate()) }));
  const retirePlan = useMutation(trpc.catalog.setPlanRetired.mutationOptions({ onSuccess: async () => (setConfirm(null), await invalidate()) }));
  const busy = retireProduct.isPending || retirePlan.isPending;
  const confirmError = retireProduct.error ?? retirePlan.error;

  return (
    <Card
      title={`${product.name}`}
      actions={
        <div className={css.row}>
          {product.archivedAt && <Badge>retired</Badge>}
          <Ident>{product.slug}</Ident>
          <Button size="small" onClick={() => setRenaming((v) => !v)}>
            Rename
          </Button>
          <Button size="small" onClick={() => setConfirm({ kind: "product" })}>
            {product.archivedAt ? "Bring back" : "Retire"}
          </Button>
        </div>
      }
    >
      {renaming && (
        <form
          className={css.inlineForm}
          onSubmit={(e) => {
            e.preventDefault();
            rename.mutate({ product: product.slug, name: name.trim() });
          }}
        >
          <Field label="Name" htmlFor={`rename-${product.id}`}>
            <input id={`rename-${product.id}`} className={inputClass} value={name} onChange={(e) => setName(e.target.value)} required />
          </Field>
          <MutationError error={rename.error} />
          <div className={css.row}>
            <Button type="submit" variant="primary" size="small" loading={rename.isPending}>
              Save name
            </Button>
          </div>
        </form>
      )}

      {plans.length === 0 ? (
        <p className={`${css.small} ${mutedClass}`}>No plan yet: a product sells nothing until it has one.</p>
      ) : (
        <Table label={`Plans of ${product.name}`} cardsOnPhone>
          <thead>
            <tr>
              <th>Plan</th>
              <th>Seats</th>
              <th>Duration</th>
              <th>Entitlements</th>
              <th>Stripe prices</th>
              {/* Every column and whole price ids must fit a laptop: this header may take two lines. */}
              <th className={css.wrap}>Offline token</th>
              <th>Heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {plans.map((pl) => (
              <tr key={pl.id}>
                <td data-label="Plan">
                  {pl.name} {pl.archivedAt && <Badge>retired</Badge>}
                  <div className={css.small}>
                    <Ident>{pl.slug}</Ident>
                  </div>
                  {/* The plan's buttons sit under its name rather than in a column of their own: room for the ids. */}
                  <div className={css.row} style={{ marginTop: "0.4rem" }}>
                    <Button size="small" onClick={() => setEditing(editing === pl.slug ? null : pl.slug)}>
                      Edit
                    </Button>
                    <Button size="small" onClick={() => setConfirm({ kind: "plan", plan: pl })}>
                      {pl.archivedAt ? "Bring back" : "Retire"}
                    </Button>
                  </div>
                </td>
                <td data-label="Seats">{pl.seats}</td>
                <td data-label="Duration">
                  <div className={css.nowrap}>{pl.durationDays ? `${pl.durationDays} days` : "perpetual"}</div>
                  <div className={`${css.small} ${mutedClass}`}>{pl.graceDays ? `+ ${pl.graceDays} days grace` : "no grace"}</div>
                </td>
                <td data-label="Entitlements">
                  <Idents items={pl.entitlements} />
                </td>
                <td data-label="Stripe prices" className={css.small}>
                  <Idents items={pl.stripePriceIds} />
                </td>
                <td data-label="Offline token" className={css.nowrap}>{durationText(pl.offlineTokenTtlSeconds, "default")}</td>
                <td data-label="Heartbeat">{durationText(pl.heartbeatWindowSeconds, "never lapses")}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {editing && (
        <PlanForm key={editing} product={product.slug} plan={plans.find((p) => p.slug === editing)} onDone={() => setEditing(null)} />
      )}
      {!product.archivedAt && (
        <div style={{ marginTop: "0.75rem" }}>
          {addingPlan ? (
            <PlanForm product={product.slug} onDone={() => setAddingPlan(false)} />
          ) : (
            <Button size="small" onClick={() => setAddingPlan(true)}>
              New plan
            </Button>
          )}
        </div>
      )}

      <ConfirmDialog
        open={confirm !== null}
        title={
          confirm?.kind === "plan"
            ? `${confirm.plan.archivedAt ? "Bring back" : "Retire"} the plan ${confirm.plan.name}?`
            : `${product.archivedAt ? "Bring back" : "Retire"} ${product.name}?`
        }
        confirmLabel={(confirm?.kind === "plan" ? confirm.plan.archivedAt : product.archivedAt) ? "Bring back" : "Retire"}
        danger={!(confirm?.kind === "plan" ? confirm.plan.archivedAt : product.archivedAt)}
        busy={busy}
        error={confirmError ? errorMessage(confirmError) : undefined}
        onCancel={() => setConfirm(null)}
        onConfirm={() => {
          if (confirm?.kind === "plan") retirePlan.mutate({ plan: confirm.plan.slug, retired: !confirm.plan.archivedAt });
          else retireProduct.mutate({ product: product.slug, retired: !product.archivedAt });
        }}
      >
        {confirm?.kind === "plan"
          ? confirm.plan.archivedAt
            ? "It can be issued by hand again."
            : "Licenses already issued keep working. It is no longer offered when issuing by hand or changing plans. Its Stripe prices stay bound: archive them in Stripe to stop selling."
          : product.archivedAt
            ? "It takes new plans again."
            : "Every license keeps working and its plans stay as they are; it only takes no new plans. Retire its plans to stop issuing it."}
      </ConfirmDialog>
    </Card>
  );
}
