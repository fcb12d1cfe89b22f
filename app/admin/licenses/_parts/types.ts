import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

/** What the admin procedures answer, as the browser receives it (JSON-serialised). */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

export type LicenseDetail = RouterOutputs["licenses"]["get"];
export type TimelineEntry = LicenseDetail["timeline"][number];
