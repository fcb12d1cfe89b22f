// GET /api/v1/admin/customers?q=&cursor=: customers by email prefix, id or Stripe customer id.
import { db } from "@/server/db/client";
import { searchCustomers } from "@/server/domain/admin/customers";
import { adminRoute } from "@/server/rest/admin";
import { API } from "@/server/rest/api-routes";
import { methodNotAllowed } from "@/server/rest/handler";

export const dynamic = "force-dynamic";

export const GET = adminRoute(API.searchCustomers, async ({ input }) => ({ body: await searchCustomers(db(), input) }));

export const { POST, PUT, PATCH, DELETE } = methodNotAllowed("GET");
