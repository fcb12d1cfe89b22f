import { adminActor } from "@/server/domain/admin/audit";
import { now } from "@/server/domain/clock";
import { ListWebsiteErrorsInput, listWebsiteErrors } from "@/server/domain/integrations/key-commander";
import {
  approveResetRequest,
  dismissResetRequest,
  ListResetRequestsInput,
  listResetRequests,
  ResetRequestIdInput,
} from "@/server/domain/licensing/reset-requests";
import { adminProcedure, createTRPCRouter } from "../trpc";

/** Customers' manual-reset requests (dashboard and license page): approve in one click, or dismiss. */
export const adminResetRequestsRouter = createTRPCRouter({
  list: adminProcedure.input(ListResetRequestsInput).query(({ ctx, input }) => listResetRequests(ctx.db, input)),
  approve: adminProcedure.input(ResetRequestIdInput).mutation(({ ctx, input }) =>
    ctx.db.transaction((tx) => approveResetRequest(tx, adminActor(ctx.admin.email), { id: input.id, adminEmail: ctx.admin.email, at: now() })),
  ),
  dismiss: adminProcedure.input(ResetRequestIdInput).mutation(({ ctx, input }) =>
    ctx.db.transaction((tx) => dismissResetRequest(tx, adminActor(ctx.admin.email), { id: input.id, adminEmail: ctx.admin.email, at: now() })),
  ),
});

/** Errors the storefront reported (POST /api/v1/report-website-error), newest first. */
export const adminWebsiteErrorsRouter = createTRPCRouter({
  list: adminProcedure.input(ListWebsiteErrorsInput).query(({ ctx, input }) => listWebsiteErrors(ctx.db, input)),
});
