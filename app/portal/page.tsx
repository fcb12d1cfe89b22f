import { PortalBilling } from "./billing";
import { PortalDownloads } from "./downloads";
import { PortalLicenses } from "./portal-licenses";

// The customer's data comes through tRPC (portal.*, portalDownloads.*), which acts only for the signed-in customer.
export default function PortalPage() {
  return (
    <>
      <PortalLicenses />
      <PortalBilling />
      <PortalDownloads />
    </>
  );
}
