import { z } from "zod";
import { adminActor } from "@/server/domain/admin/audit";
import {
  CreateWebhookInput,
  ListWebhookDeliveriesInput,
  ReplayWebhookInput,
  UpdateWebhookInput,
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  replayWebhook,
  retryWebhookDelivery,
  rotateWebhookSecret,
  sendTestWebhook,
  updateWebhook,
} from "@/server/domain/webhooks/endpoints";
import { WEBHOOK_EVENT_TYPES } from "@/server/domain/webhooks/event-types";
import { adminProcedure, createTRPCRouter } from "../trpc";

const Id = z.object({ id: z.string().min(1).max(100) });

// The admin app's webhooks page; the same domain functions as /api/v1/admin/webhooks.
export const adminWebhooksRouter = createTRPCRouter({
  eventTypes: adminProcedure.query(() => Object.entries(WEBHOOK_EVENT_TYPES).map(([type, description]) => ({ type, description }))),
  list: adminProcedure.query(({ ctx }) => listWebhooks(ctx.db)),
  get: adminProcedure.input(Id).query(({ ctx, input }) => getWebhook(ctx.db, input.id)),
  deliveries: adminProcedure
    .input(Id.extend(ListWebhookDeliveriesInput.shape))
    .query(({ ctx, input: { id, ...rest } }) => listWebhookDeliveries(ctx.db, id, rest)),
  create: adminProcedure
    .input(CreateWebhookInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => createWebhook(tx, adminActor(ctx.admin.email), input))),
  update: adminProcedure
    .input(z.object({ id: z.string().min(1).max(100), patch: UpdateWebhookInput }))
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => updateWebhook(tx, adminActor(ctx.admin.email), input.id, input.patch))),
  delete: adminProcedure
    .input(Id)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => deleteWebhook(tx, adminActor(ctx.admin.email), input.id))),
  rotateSecret: adminProcedure
    .input(Id)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => rotateWebhookSecret(tx, adminActor(ctx.admin.email), input.id))),
  retry: adminProcedure
    .input(z.object({ id: z.string().min(1).max(100), deliveryId: z.string().min(1).max(100) }))
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => retryWebhookDelivery(tx, adminActor(ctx.admin.email), input.id, input.deliveryId))),
  replay: adminProcedure
    .input(z.object({ id: z.string().min(1).max(100), replay: ReplayWebhookInput }))
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => replayWebhook(tx, adminActor(ctx.admin.email), input.id, input.replay))),
  sendTest: adminProcedure
    .input(Id)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => sendTestWebhook(tx, adminActor(ctx.admin.email), input.id))),
});
