// Shared UI for the admin app and the portal. Plain React + CSS modules; no UI framework.
export { Button, LinkButton, buttonClass, type ButtonVariant } from "./button";
export { ConfirmDialog } from "./confirm-dialog";
export { EmptyState, ErrorState, LoadingState, Notice } from "./states";
export { Table } from "./table";
export {
  Badge,
  Card,
  DottedName,
  Field,
  Grid,
  Ident,
  Idents,
  PageHeader,
  Stat,
  StatusBadge,
  inputClass,
  monoClass,
  mutedClass,
  type BadgeTone,
} from "./layout-bits";
export { errorMessage, formatDate, formatDateTime, formatNumber, formatRelative, plural } from "./format";
