import {
  customerActor,
  deactivateActivationById,
  listCustomerLicenses,
  PortalActivationInput,
  PortalLicenseInput,
  resendCustomerLicenseEmail,
  resetCustomerDevices,
  revealCustomerLicenseKey,
} from "@/server/domain/licensing/portal";
import { PortalResetRequestInput, requestManualReset } from "@/server/domain/licensing/reset-requests";
import { now } from "@/server/domain/clock";
import { addressFromDoor } from "@/server/http/client-address";
import { limit } from "@/server/rest/handler";
import { ActivationFileInput, createActivationFile } from "@/server/domain/licensing/activation-file";
import { createTRPCRouter, customerProcedure } from "../trpc";

/**
 * The customer portal. Every procedure acts for ctx.customerId, which comes from the session (the customer
 * with the signed-in email), never from input: ids in input only pick among the customer's own things.
 */
/**
 * Resets and manual-reset requests are rate limited per customer and per address (beyond the cooldown, which
 * only counts successful resets): a script cannot hammer the license lock or the operators' inbox.
 */
async function limitResets(kind: string, customerId: string | null, headers: Headers) {
  await limit(`portal-${kind}:ip:${addressFromDoor(headers)}`, 60);
  if (customerId) await limit(`portal-${kind}:customer:${customerId}`, 5);
}

export const portalRouter = createTRPCRouter({
  me: customerProcedure.query(({ ctx }) => ({
    email: ctx.session.user.email,
    isAdmin: ctx.session.user.isAdmin,
    hasCustomer: ctx.customerId !== null,
  })),
  licenses: customerProcedure.query(({ ctx }) => listCustomerLicenses(ctx.db, ctx.customerId)),
  revealKey: customerProcedure
    .input(PortalLicenseInput)
    .mutation(({ ctx, input }) => revealCustomerLicenseKey(ctx.db, { licenseId: input.licenseId, customerId: ctx.customerId })),
  deactivate: customerProcedure.input(PortalActivationInput).mutation(({ ctx, input }) =>
    ctx.db.transaction((tx) =>
      deactivateActivationById(tx, customerActor(ctx.customerId), {
        activationId: input.activationId,
        customerId: ctx.customerId,
      }),
    ),
  ),
  // Only for the customer's own licenses: customerId from the session restricts the lookup.
  activationFile: customerProcedure.input(PortalLicenseInput.extend(ActivationFileInput.shape)).mutation(({ ctx, input: { licenseId, ...body } }) =>
    createActivationFile(ctx.db, customerActor(ctx.customerId), { ...body, licenseId, customerId: ctx.customerId }),
  ),
  resetDevices: customerProcedure.input(PortalLicenseInput).mutation(async ({ ctx, input }) => {
    await limitResets("reset", ctx.customerId, ctx.headers);
    return ctx.db.transaction((tx) =>
      resetCustomerDevices(tx, customerActor(ctx.customerId), { licenseId: input.licenseId, customerId: ctx.customerId }),
    );
  }),
  requestManualReset: customerProcedure.input(PortalResetRequestInput).mutation(async ({ ctx, input }) => {
    await limitResets("reset-request", ctx.customerId, ctx.headers);
    return ctx.db.transaction((tx) =>
      requestManualReset(tx, customerActor(ctx.customerId), {
        licenseId: input.licenseId,
        customerId: ctx.customerId,
        message: input.message,
        at: now(),
      }),
    );
  }),
  resendLicenseEmail: customerProcedure.input(PortalLicenseInput).mutation(({ ctx, input }) =>
    ctx.db.transaction((tx) =>
      resendCustomerLicenseEmail(tx, customerActor(ctx.customerId), {
        licenseId: input.licenseId,
        customerId: ctx.customerId,
        email: ctx.session.user.email,
      }),
    ),
  ),
});
