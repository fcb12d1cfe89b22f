import { adminActor } from "@/server/domain/admin/audit";
import { deleteRelease, listReleases, SetReleaseYankedInput, setReleaseYanked } from "@/server/domain/releases/catalog";
import { ListReleasesQuery, ReleaseIdInput } from "@/server/domain/releases/inputs";
import { adminProcedure, createTRPCRouter } from "../trpc";

/**
 * Releases in the admin app: the same functions as GET /api/v1/admin/releases. Uploads do not fit tRPC (a
 * streamed multipart body): the page posts them to /api/admin-app/releases, which calls uploadRelease too.
 */
export const adminReleasesRouter = createTRPCRouter({
  list: adminProcedure.input(ListReleasesQuery).query(({ ctx, input }) => listReleases(ctx.db, input)),
  setYanked: adminProcedure
    .input(SetReleaseYankedInput)
    .mutation(({ ctx, input }) => ctx.db.transaction((tx) => setReleaseYanked(tx, adminActor(ctx.admin.email), input))),
  delete: adminProcedure.input(ReleaseIdInput).mutation(({ ctx, input }) => deleteRelease(ctx.db, adminActor(ctx.admin.email), input)),
});
