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
import { ActivationFileInput, createActivationFile } from "@/server/domain/licensing/activation-file";
import { PortalEmailInput, portalEmails, requestEmailLink, requestKeyRotation } from "@/server/domain/portal/confirmations";
import { limitPortalEmails, limitPortalResets } from "../portal-limits";
import { createBillingPortalSession, customerBilling } from "@/server/domain/billing/customer-billing";
import { createTRPCRouter, customerProcedure } from "../trpc";

/**
 * The customer portal. Every procedure acts for ctx.customerIds (the signed-in customer and the addresses they
 * have proven), which come from the session, never from input: ids in input only pick among their own things.
 */
export const portalRouter = createTRPCRouter({
  me: customerProcedure.query(({ ctx }) => ({
    email: ctx.session.user.email,
    isAdmin: ctx.session.user.isAdmin,
    hasCustomer: ctx.customerId !== null,
  })),
  emails: customerProcedure.query(({ ctx }) => portalEmails(ctx.db, ctx.customerId, ctx.session.user.email)),
  licenses: customerProcedure.query(({ ctx }) => listCustomerLicenses(ctx.db, ctx.customerIds)),
  revealKey: customerProcedure
    .input(PortalLicenseInput)
    .mutation(({ ctx, input }) => revealCustomerLicenseKey(ctx.db, { licenseId: input.licenseId, customerIds: ctx.customerIds })),
  deactivate: customerProcedure.input(PortalActivationInput).mutation(({ ctx, input }) =>
    ctx.db.transaction((tx) =>
      deactivateActivationById(tx, customerActor(ctx.customerId), {
        activationId: input.activationId,
        customerIds: ctx.customerIds,
      }),
    ),
  ),
  // Only for the customer's own licenses: customerIds from the session restrict the lookup.
  activationFile: customerProcedure.input(PortalLicenseInput.extend(ActivationFileInput.shape)).mutation(({ ctx, input: { licenseId, ...body } }) =>
    createActivationFile(ctx.db, customerActor(ctx.customerId), { ...body, licenseId, customerIds: ctx.customerIds }),
  ),
  resetDevices: customerProcedure.input(PortalLicenseInput).mutation(async ({ ctx, input }) => {
    await limitPortalResets("reset", ctx.customerId, addressFromDoor(ctx.headers));
    return ctx.db.transaction((tx) =>
      resetCustomerDevices(tx, customerActor(ctx.customerId), { licenseId: input.licenseId, customerIds: ctx.customerIds }),
    );
  }),
  requestManualReset: customerProcedure.input(PortalResetRequestInput).mutation(async ({ ctx, input }) => {
    await limitPortalResets("reset-request", ctx.customerId, addressFromDoor(ctx.headers));
    return ctx.db.transaction((tx) =>
      requestManualReset(tx, customerActor(ctx.customerId), {
        licenseId: input.licenseId,
        customerIds: ctx.customerIds,
        message: input.message,
        at: now(),
      }),
    );
  }),
  // Payments and invoices tied to the customer's own licenses, and whether "Manage billing" can open.
  billing: customerProcedure.query(({ ctx }) => customerBilling(ctx.db, ctx.customerId)),
  // Stripe's customer portal for the customer's own Stripe customer (from the session, never from input).
  manageBilling: customerProcedure.mutation(({ ctx }) => createBillingPortalSession(ctx.db, ctx.customerId)),
  resendLicenseEmail: customerProcedure.input(PortalLicenseInput).mutation(({ ctx, input }) =>
    ctx.db.transaction((tx) =>
      resendCustomerLicenseEmail(tx, customerActor(ctx.customerId), {
        licenseId: input.licenseId,
        customerIds: ctx.customerIds,
        email: ctx.session.user.email,
      }),
    ),
  ),
  /** Emails a link that, once clicked, replaces the key (the old one stops at once). */
  requestKeyRotation: customerProcedure.input(PortalLicenseInput).mutation(async ({ ctx, input }) => {
    await limitPortalEmails(ctx.session.user.email);
    return ctx.db.transaction((tx) =>
      requestKeyRotation(tx, customerActor(ctx.customerId), { licenseId: input.licenseId, customerIds: ctx.customerIds }),
    );
  }),
  /** Emails a link to another address; once clicked, its licenses show here too. */
  addEmail: customerProcedure.input(PortalEmailInput).mutation(async ({ ctx, input }) => {
    await limitPortalEmails(ctx.session.user.email, input.email);
    return ctx.db.transaction((tx) =>
      requestEmailLink(tx, customerActor(ctx.customerId), {
        customerId: ctx.customerId,
        signedInEmail: ctx.session.user.email,
        email: input.email,
      }),
    );
  }),
});
