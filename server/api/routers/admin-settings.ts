import { z } from "zod";
import { CreateApiTokenInput, createApiToken, listApiTokens, revokeApiToken } from "@/server/domain/admin/api-tokens";
import { adminActor } from "@/server/domain/admin/audit";
import { integrationStatus, listSigningKeys, rotateSigningKeys } from "@/server/domain/admin/settings";
import { requestStripeReconcile } from "@/server/domain/admin/stripe-reconcile";
import { AppError } from "@/server/domain/errors";
import { isUuid } from "@/server/domain/admin/cursor";
import { ShopSettingsInput, readShopSettings, saveShopSettings } from "@/server/domain/shop/settings";
import { resetPriceBackoff } from "@/server/domain/shop/prices";
import { asc, eq } from "drizzle-orm";
import { plans, products } from "@/server/db/schema";
import { adminProcedure, createTRPCRouter } from "../trpc";

export const adminSettingsRouter = createTRPCRouter({
  status: adminProcedure.query(({ ctx }) => integrationStatus(ctx.db)),
  // The same request as POST /api/v1/admin/stripe/reconcile: the worker runs it now instead of on schedule.
  reconcileNow: adminProcedure.mutation(async ({ ctx }) => {
    await ctx.db.transaction((tx) => requestStripeReconcile(tx));
    return { queued: true };
  }),
  // The storefront's name, logo, accent, disposable domains and per-plan checkout options (Settings > Shop).
  shop: adminProcedure.query(async ({ ctx }) => ({
    settings: await readShopSettings(ctx.db),
    plans: await ctx.db
      .select({ id: plans.id, slug: plans.slug, name: plans.name, productName: products.name, trialDays: plans.trialDays })
      .from(plans)
      .innerJoin(products, eq(products.id, plans.productId))
      .orderBy(asc(products.name), asc(plans.name)),
  })),
  saveShop: adminProcedure.input(ShopSettingsInput).mutation(async ({ ctx, input }) => {
    const saved = await ctx.db.transaction((tx) => saveShopSettings(tx, adminActor(ctx.admin.email), input));
    resetPriceBackoff();
    return saved;
  }),
  signingKeys: adminProcedure.query(({ ctx }) => listSigningKeys(ctx.db)),
  rotateSigningKey: adminProcedure.mutation(({ ctx }) =>
    ctx.db.transaction((tx) => rotateSigningKeys(tx, adminActor(ctx.admin.email))),
  ),
  apiTokens: adminProcedure.query(({ ctx }) => listApiTokens(ctx.db)),
  // The plain token is in this answer only: the page shows it once.
  createApiToken: adminProcedure
    .input(CreateApiTokenInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => createApiToken(tx, adminActor(ctx.admin.email), input))),
  revokeApiToken: adminProcedure.input(z.object({ id: z.string().min(1).max(100) })).mutation(({ ctx, input }) => {
    if (!isUuid(input.id)) throw new AppError("NOT_FOUND", "There is no active API token with that id.");
    return ctx.db.transaction((tx) => revokeApiToken(tx, adminActor(ctx.admin.email), input.id));
  }),
});
