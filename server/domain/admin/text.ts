import { z } from "zod";

/**
 * Free text from the management API, trimmed and bounded. PostgreSQL cannot store NUL, and a lone UTF-16
 * surrogate is not text: refusing both here keeps a malformed request a 400 instead of a database error.
 * (Same rule as the public inputs in server/domain/licensing/inputs.ts.)
 */
export const storable = (s: string) => !s.includes("\u0000") && s.isWellFormed();

export const storableText = (min: number, max: number) =>
  z.string().trim().min(min).max(max).refine(storable, "must not contain NUL characters or unpaired surrogates");
