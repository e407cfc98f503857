import type { z } from 'zod';
import { type Problem, problemsOf } from '../../lib/problems.js';

/** Parses a value; returns the problems instead of throwing so a request's problems are reported together. */
export function check<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix?: string,
): { ok: true; value: z.output<S> } | { ok: false; problems: Problem[] } {
  const parsed = schema.safeParse(value);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : {
        ok: false,
        problems: problemsOf(parsed.error.issues, {
          prefix,
          root: '(body)',
          // Each unknown field is its own problem at its own path (`overrides.builder.colour`).
          unknownKey: prefix === 'query' ? 'unknown query parameter' : 'unknown field',
        }),
      };
}
