import {
  customerActor,
  deactivateActivationById,
  listCustomerLicenses,
  PortalActivationInput,
  PortalLicenseInput,
  resendCustomerLicenseEmail,
  revealCustomerLicenseKey,
} from "@/server/domain/licensing/portal";
import { ActivationFileInput, createActivationFile } from "@/server/domain/licensing/activation-file";
import { createBillingPortalSession, customerBilling } from "@/server/domain/billing/customer-billing";
import { createTRPCRouter, customerProcedure } from "../trpc";

/**
 * The customer portal. Every procedure acts for ctx.customerId, which comes from the session (the customer
 * with the signed-in email), never from input: ids in input only pick among the customer's own things.
 */
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
  // Payments and invoices tied to the customer's own licenses, and whether "Manage billing" can open.
  billing: customerProcedure.query(({ ctx }) => customerBilling(ctx.db, ctx.customerId)),
  // Stripe's customer portal for the customer's own Stripe customer (from the session, never from input).
  manageBilling: customerProcedure.mutation(({ ctx }) => createBillingPortalSession(ctx.db, ctx.customerId)),
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
