import { z } from "zod";
import { adminActor } from "@/server/domain/admin/audit";
import { getLicenseDetail } from "@/server/domain/admin/licenses";
import { SearchLicensesInput, searchLicenses } from "@/server/domain/admin/search";
import {
  ChangePlanInput,
  changeLicensePlan,
  DeactivateActivationInput,
  deactivateActivation,
  resendLicenseEmail,
  rotateLicenseKeyAndNotify,
} from "@/server/domain/licensing/admin-actions";
import {
  applyLicenseAction,
  ChangeSeatsInput,
  ExtendLicenseInput,
  RevokeLicenseInput,
  SuspendLicenseInput,
  type LicenseActionName,
} from "@/server/domain/licensing/lifecycle";
import { IssueManualLicenseInput, issueManualLicense } from "@/server/domain/licensing/manual";
import { ActivationFileInput, createActivationFile } from "@/server/domain/licensing/activation-file";
import { adminProcedure, createTRPCRouter } from "../trpc";

/**
 * Licenses in the admin app. The lifecycle actions go through applyLicenseAction, exactly as
 * POST /api/v1/admin/licenses/{id}/{action} does; the admin-only ones are in licensing/admin-actions.ts.
 * Every mutation is one transaction with its audit row (actor: the admin's email).
 */
const LicenseId = z.object({ id: z.string().min(1).max(100) });

const lifecycle = <S extends z.ZodObject>(action: LicenseActionName, body: S) =>
  adminProcedure.input(LicenseId.extend(body.shape)).mutation(({ ctx, input }) => {
    const { id, ...rest } = input as { id: string };
    return ctx.db.transaction((tx) => applyLicenseAction(tx, adminActor(ctx.admin.email), id, action, rest));
  });

export const adminLicensesRouter = createTRPCRouter({
  search: adminProcedure.input(SearchLicensesInput).query(({ ctx, input }) => searchLicenses(ctx.db, input)),
  get: adminProcedure.input(LicenseId).query(({ ctx, input }) => getLicenseDetail(ctx.db, input.id)),

  // The answer carries the full key: the page shows it once.
  issue: adminProcedure
    .input(IssueManualLicenseInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => issueManualLicense(tx, adminActor(ctx.admin.email), input))),

  suspend: lifecycle("suspend", SuspendLicenseInput),
  reinstate: lifecycle("reinstate", z.object({})),
  revoke: lifecycle("revoke", RevokeLicenseInput),
  extend: lifecycle("extend", ExtendLicenseInput),
  changeSeats: lifecycle("change-seats", ChangeSeatsInput),
  resetActivations: lifecycle("reset-activations", z.object({})),

  changePlan: adminProcedure.input(LicenseId.extend(ChangePlanInput.shape)).mutation(({ ctx, input: { id, ...body } }) =>
    ctx.db.transaction(async (tx) => {
      await changeLicensePlan(tx, adminActor(ctx.admin.email), id, body);
      return getLicenseDetail(tx, id);
    }),
  ),
  deactivate: adminProcedure
    .input(LicenseId.extend(DeactivateActivationInput.shape))
    .mutation(({ ctx, input: { id, ...body } }) =>
      ctx.db.transaction(async (tx) => {
        await deactivateActivation(tx, adminActor(ctx.admin.email), id, body);
        return { deactivated: true as const };
      }),
    ),
  // Its own transaction (the seat), then the token is signed after commit.
  activationFile: adminProcedure
    .input(LicenseId.extend(ActivationFileInput.shape))
    .mutation(({ ctx, input: { id, ...body } }) => createActivationFile(ctx.db, adminActor(ctx.admin.email), { ...body, licenseId: id })),
  // The new key is in this answer and in the customer's email, nowhere else.
  rotateKey: adminProcedure
    .input(LicenseId)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => rotateLicenseKeyAndNotify(tx, adminActor(ctx.admin.email), input.id))),
  resendEmail: adminProcedure.input(LicenseId).mutation(({ ctx, input }) =>
    ctx.db.transaction(async (tx) => {
      const { outboxId, to } = await resendLicenseEmail(tx, adminActor(ctx.admin.email), input.id);
      return { outboxId, to };
    }),
  ),
});
