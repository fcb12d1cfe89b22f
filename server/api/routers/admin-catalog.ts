import { adminActor } from "@/server/domain/admin/audit";
import { CreatePlanInput, createPlan, listPlans, SetPlanRetiredInput, setPlanRetired, UpdatePlanInput, updatePlan } from "@/server/domain/catalog/plans";
import {
  CreateProductInput,
  createProduct,
  listProducts,
  SetProductRetiredInput,
  setProductRetired,
  UpdateProductInput,
  updateProduct,
} from "@/server/domain/catalog/products";
import { adminProcedure, createTRPCRouter } from "../trpc";

/** Products and plans: the same catalog functions as POST /api/v1/admin/products and /plans. */
export const adminCatalogRouter = createTRPCRouter({
  list: adminProcedure.query(async ({ ctx }) => {
    const [products, plans] = await Promise.all([listProducts(ctx.db), listPlans(ctx.db)]);
    return { products, plans };
  }),
  createProduct: adminProcedure
    .input(CreateProductInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => createProduct(tx, adminActor(ctx.admin.email), input))),
  updateProduct: adminProcedure
    .input(UpdateProductInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => updateProduct(tx, adminActor(ctx.admin.email), input))),
  setProductRetired: adminProcedure
    .input(SetProductRetiredInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => setProductRetired(tx, adminActor(ctx.admin.email), input))),
  createPlan: adminProcedure
    .input(CreatePlanInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => createPlan(tx, adminActor(ctx.admin.email), input))),
  updatePlan: adminProcedure
    .input(UpdatePlanInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => updatePlan(tx, adminActor(ctx.admin.email), input))),
  setPlanRetired: adminProcedure
    .input(SetPlanRetiredInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => setPlanRetired(tx, adminActor(ctx.admin.email), input))),
});
