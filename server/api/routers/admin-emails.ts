import { z } from "zod";
import { adminActor } from "@/server/domain/admin/audit";
import { EMAIL_TEMPLATES, getEmail, ListEmailsInput, listEmails, PreviewEmailInput, previewEmailTemplate, retryEmail } from "@/server/domain/admin/emails";
import { emailDeliveryStatus } from "@/server/domain/mail/waiting";
import { adminProcedure, createTRPCRouter } from "../trpc";

const EmailId = z.object({ id: z.string().min(1).max(100) });

export const adminEmailsRouter = createTRPCRouter({
  /** Where emails go now, and how many wait for a provider (production without one). */
  delivery: adminProcedure.query(({ ctx }) => emailDeliveryStatus(ctx.db)),
  list: adminProcedure.input(ListEmailsInput).query(({ ctx, input }) => listEmails(ctx.db, input)),
  get: adminProcedure.input(EmailId).query(({ ctx, input }) => getEmail(ctx.db, input.id)),
  retry: adminProcedure
    .input(EmailId)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => retryEmail(tx, adminActor(ctx.admin.email), input.id))),
  templates: adminProcedure.query(() => EMAIL_TEMPLATES),
  preview: adminProcedure.input(PreviewEmailInput).query(({ input }) => previewEmailTemplate(input.template)),
});
