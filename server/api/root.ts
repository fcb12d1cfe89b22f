import { createCallerFactory, createTRPCRouter } from "./trpc";
import { devRouter } from "./routers/dev";
import { dashboardRouter } from "./routers/dashboard";
import { portalRouter } from "./routers/portal";
import { adminAuditRouter } from "./routers/admin-audit";
import { adminCatalogRouter } from "./routers/admin-catalog";
import { adminCustomersRouter } from "./routers/admin-customers";
import { adminEmailsRouter } from "./routers/admin-emails";
import { adminLicensesRouter } from "./routers/admin-licenses";
import { adminSettingsRouter } from "./routers/admin-settings";
import { adminStripeEventsRouter } from "./routers/admin-stripe-events";
import { adminWebhooksRouter } from "./routers/admin-webhooks";
import { adminResetRequestsRouter, adminWebsiteErrorsRouter } from "./routers/admin-reset-requests";
import { adminReleasesRouter } from "./routers/admin-releases";
import { portalDownloadsRouter } from "./routers/portal-downloads";

export const appRouter = createTRPCRouter({
  dev: devRouter,
  portal: portalRouter,
  portalDownloads: portalDownloadsRouter,
  dashboard: dashboardRouter,
  // The admin app's areas (every procedure is adminProcedure).
  licenses: adminLicensesRouter,
  customers: adminCustomersRouter,
  catalog: adminCatalogRouter,
  stripeEvents: adminStripeEventsRouter,
  emails: adminEmailsRouter,
  settings: adminSettingsRouter,
  audit: adminAuditRouter,
  webhooks: adminWebhooksRouter,
  resetRequests: adminResetRequestsRouter,
  websiteErrors: adminWebsiteErrorsRouter,
  releases: adminReleasesRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side calls (tests, server components) through the same procedures and checks as HTTP. */
export const createCaller = createCallerFactory(appRouter);
