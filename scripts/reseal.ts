// `npm run reseal`: after AUTH_SECRET changed (the old one in AUTH_SECRET_PREVIOUS), seals every stored secret
// again under the current AUTH_SECRET, so AUTH_SECRET_PREVIOUS can be dropped. Safe to run twice and while the
// app runs: each batch is one transaction, and a value already sealed under AUTH_SECRET is left as it is.
import { bootOrExit } from "@/server/boot";
import { closeDb, db } from "@/server/db/client";
import { resealField, SEALED_FIELDS } from "@/server/domain/sealed-fields";

async function main() {
  await bootOrExit();
  let unreadable = 0;
  for (const field of SEALED_FIELDS) {
    const counts = await resealField(db(), field);
    unreadable += counts.unreadable;
    console.log(`${field.name}: ${counts.resealed} resealed, ${counts.current} already current, ${counts.unreadable} unreadable`);
  }
  await closeDb();
  if (unreadable > 0) {
    console.error(
      `[keystead] ${unreadable} value(s) open with neither AUTH_SECRET nor AUTH_SECRET_PREVIOUS: they were sealed under another secret; set that one as AUTH_SECRET_PREVIOUS and run again`,
    );
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(`[keystead] reseal failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
