"use client";

import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";

/**
 * A list page's filters, kept in the URL: a filtered view can be bookmarked, shared and reloaded, and the
 * back button undoes a filter. Empty values are left out of the URL.
 */
export function useSearchFilters<K extends string>(keys: readonly K[]) {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const query = params.toString();
  const values = useMemo(() => {
    const p = new URLSearchParams(query);
    return Object.fromEntries(keys.map((k) => [k, p.get(k) ?? ""])) as Record<K, string>;
    // keys is a constant list per page.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [query]);
  const set = useCallback(
    (next: Partial<Record<K, string>>) => {
      const p = new URLSearchParams(query);
      for (const [k, v] of Object.entries(next) as [K, string | undefined][]) {
        if (v) p.set(k, v);
        else p.delete(k);
      }
      const s = p.toString();
      router.replace(s ? `${pathname}?${s}` : pathname, { scroll: false });
    },
    [query, pathname, router],
  );
  return [values, set] as const;
}

/** A filter value as an optional input field ("" means no filter). */
export const orUndefined = <T extends string>(v: string): T | undefined => (v ? (v as T) : undefined);
