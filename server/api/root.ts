import { createCallerFactory, createTRPCRouter } from "./trpc";
import { devRouter } from "./routers/dev";

export const appRouter = createTRPCRouter({
  dev: devRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side calls (tests, server components) through the same procedures and checks as HTTP. */
export const createCaller = createCallerFactory(appRouter);
