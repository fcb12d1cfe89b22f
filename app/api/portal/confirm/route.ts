// POST /api/portal/confirm: the button of an emailed portal link (/confirm). Spends the one-time token and makes
// the change (a key replacement, or another address proven) in one transaction, then shows what happened.
import { fromAnotherSite } from "@/server/auth/same-site";
import { db } from "@/server/db/client";
import { isAppError } from "@/server/domain/errors";
import { ConfirmTokenInput, confirmPortalChange } from "@/server/domain/portal/confirmations";
import { readBodyText } from "@/server/rest/body";
import { errorResponse, limit, methodNotAllowed, toErrorResponse } from "@/server/rest/handler";
import { clientIp } from "@/server/rest/rate-limit";

export const dynamic = "force-dynamic";

const FORM_MAX_BYTES = 1024;
const CONFIRMS_PER_MINUTE = 10;

const redirect = (location: string) => new Response(null, { status: 303, headers: { location } });

export async function POST(req: Request) {
  try {
    await limit(`portal-confirm:${clientIp(req)}`, CONFIRMS_PER_MINUTE);
    // A form on another site must not make a visitor's browser press the button for them.
    if (fromAnotherSite(req.headers)) return errorResponse("FORBIDDEN", "Links can only be confirmed on this site.", 403);
    const form = new URLSearchParams(await readBodyText(req, FORM_MAX_BYTES));
    const parsed = ConfirmTokenInput.safeParse({ token: form.get("token") ?? "" });
    if (!parsed.success) return redirect("/confirm");
    try {
      const outcome = await db().transaction((tx) => confirmPortalChange(tx, parsed.data.token));
      return redirect(`/confirm/done?what=${outcome.purpose === "rotate-key" ? "rotated" : "linked"}`);
    } catch (err) {
      if (isAppError(err) && err.code === "LINK_EXPIRED") return redirect(`/confirm?token=${parsed.data.token}&error=expired`);
      // The license changed since the link was sent (revoked, say): nothing was done, and the page says so.
      if (isAppError(err) && err.status < 500) return redirect("/confirm/done?what=refused");
      throw err;
    }
  } catch (err) {
    return toErrorResponse(err);
  }
}

export const { GET, PUT, PATCH, DELETE } = methodNotAllowed("POST");
