import { PortalBilling } from "./billing";
import { PortalLicenses } from "./portal-licenses";

// The customer's data comes through tRPC (portal.*), which acts only for the signed-in customer.
export default function PortalPage() {
  return (
    <>
      <PortalLicenses />
      <PortalBilling />
    </>
  );
}
