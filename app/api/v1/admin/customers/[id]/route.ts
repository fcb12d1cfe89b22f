// GET, PATCH /api/v1/admin/customers/{id} (the rules: server/domain/admin/customers.ts).
import { db } from "@/server/db/client";
import { changeCustomerEmail, getCustomerDetail } from "@/server/domain/admin/customers";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.getCustomer, async ({ params }) => ({ body: await getCustomerDetail(db(), params.id!) }));

export const PATCH = adminRoute(API.changeCustomerEmail, async ({ actor, params, input }) => {
  const { customer } = await db().transaction((tx) => changeCustomerEmail(tx, actor, params.id!, input));
  return { body: { customer: { id: customer.id, email: customer.email } } };
});

export const { POST, PUT, DELETE } = methodNotAllowed("GET", "PATCH");
