import { listCustomerDownloads } from "@/server/domain/releases/access";
import { createTRPCRouter, customerProcedure } from "../trpc";

/** The portal's downloads: for ctx.customerId (from the session) only, each with fresh short-lived links. */
export const portalDownloadsRouter = createTRPCRouter({
  list: customerProcedure.query(({ ctx }) => listCustomerDownloads(ctx.db, ctx.customerId)),
});
