import { dashboardSeries, dashboardSummary, DashboardInput } from "@/server/domain/admin/dashboard";
import { setupStatus } from "@/server/domain/admin/setup";
import { adminProcedure, createTRPCRouter } from "../trpc";

/** The admin dashboard (/admin) and the first-run checklist (/admin/setup). */
export const dashboardRouter = createTRPCRouter({
  summary: adminProcedure.query(({ ctx }) => dashboardSummary(ctx.db)),
  series: adminProcedure.input(DashboardInput).query(({ ctx, input }) => dashboardSeries(ctx.db, input.days)),
  setup: adminProcedure.query(({ ctx }) => setupStatus(ctx.db)),
});
