import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { createTRPCContext, logTRPCError } from "@/server/api/trpc";
import { TRPC_MAX_BODY_BYTES } from "@/server/auth/limits";
import { bufferedRequest } from "@/server/rest/body";
import { toErrorResponse } from "@/server/rest/handler";

async function handler(original: Request) {
  let req: Request;
  try {
    // tRPC would buffer any body it is sent: read it bounded first.
    req = await bufferedRequest(original, TRPC_MAX_BODY_BYTES);
  } catch (err) {
    return toErrorResponse(err);
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: () => createTRPCContext({ headers: req.headers }),
    onError: logTRPCError,
  });
}

export { handler as GET, handler as POST };
