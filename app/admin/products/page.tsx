import type { Metadata } from "next";
import { Catalog } from "./catalog";

export const metadata: Metadata = { title: "Products & plans" };

export default function ProductsPage() {
  return <Catalog />;
}
