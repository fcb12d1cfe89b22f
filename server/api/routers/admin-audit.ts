import { AUDIT_SUBJECT_TYPES, ListAuditInput, listAudit } from "@/server/domain/admin/audit";
import { adminProcedure, createTRPCRouter } from "../trpc";

export const adminAuditRouter = createTRPCRouter({
  list: adminProcedure.input(ListAuditInput).query(({ ctx, input }) => listAudit(ctx.db, input)),
  subjectTypes: adminProcedure.query(() => AUDIT_SUBJECT_TYPES),
});
