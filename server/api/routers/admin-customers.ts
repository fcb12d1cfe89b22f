import { z } from "zod";
import { adminActor } from "@/server/domain/admin/audit";
import {
  ChangeCustomerEmailInput,
  changeCustomerEmail,
  getCustomerDetail,
  SearchCustomersInput,
  searchCustomers,
} from "@/server/domain/admin/customers";
import { adminProcedure, createTRPCRouter } from "../trpc";

const CustomerId = z.object({ id: z.string().min(1).max(100) });

export const adminCustomersRouter = createTRPCRouter({
  search: adminProcedure.input(SearchCustomersInput).query(({ ctx, input }) => searchCustomers(ctx.db, input)),
  get: adminProcedure.input(CustomerId).query(({ ctx, input }) => getCustomerDetail(ctx.db, input.id)),
  changeEmail: adminProcedure
    .input(CustomerId.extend(ChangeCustomerEmailInput.shape))
    .mutation(({ ctx, input: { id, ...body } }) =>
      ctx.db.transaction(async (tx) => {
        const { customer } = await changeCustomerEmail(tx, adminActor(ctx.admin.email), id, body);
        return { id: customer.id, email: customer.email };
      }),
    ),
});
