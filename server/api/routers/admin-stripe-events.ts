import { adminActor } from "@/server/domain/admin/audit";
import { getStripeEvent, ListStripeEventsInput, listStripeEvents, replayStripeEvent, StripeEventIdInput } from "@/server/domain/admin/events";
import { adminProcedure, createTRPCRouter } from "../trpc";

export const adminStripeEventsRouter = createTRPCRouter({
  list: adminProcedure.input(ListStripeEventsInput).query(({ ctx, input }) => listStripeEvents(ctx.db, input)),
  get: adminProcedure.input(StripeEventIdInput).query(({ ctx, input }) => getStripeEvent(ctx.db, input.id)),
  replay: adminProcedure
    .input(StripeEventIdInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => replayStripeEvent(tx, adminActor(ctx.admin.email), input.id))),
});
