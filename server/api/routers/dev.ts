import { AppError } from "@/server/domain/errors";
import { DevMailboxMessageInput, getDevMailboxMessage, listDevMailbox } from "@/server/domain/mail/dev-mailbox";
import { createTRPCRouter, devProcedure } from "../trpc";

export const devRouter = createTRPCRouter({
  mailbox: createTRPCRouter({
    list: devProcedure.query(({ ctx }) => listDevMailbox(ctx.db)),
    get: devProcedure.input(DevMailboxMessageInput).query(async ({ ctx, input }) => {
      const message = await getDevMailboxMessage(ctx.db, input.id);
      if (!message) throw new AppError("NOT_FOUND", "That message is not in the dev mailbox.");
      return message;
    }),
  }),
});
