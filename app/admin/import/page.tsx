import type { Metadata } from "next";
import { PageHeader } from "@/app/_components";
import { ImportWizard } from "./import-wizard";

export const metadata: Metadata = { title: "Import" };

/** The way back in: another Keystead's export, or the files of the platforms sellers leave. */
export default function ImportPage() {
  return (
    <>
      <PageHeader
        title="Import"
        description="Bring licenses from Lemon Squeezy, Keygen, Gumroad or Polar (their keys keep working as customers typed them), or a whole Keystead export into this empty instance."
      />
      <ImportWizard />
    </>
  );
}
