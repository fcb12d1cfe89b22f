// next-auth 4's handler (sign-in email, the emailed link's callback, sign-out, csrf, session).
import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { authOptions } from "@/server/auth/options";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ nextauth: string[] }> };

// Options are built per request from the process's settings, not at build time.
const handler = (req: NextRequest, context: Context) => NextAuth(authOptions())(req, context);

export { handler as GET, handler as POST };
