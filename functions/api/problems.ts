import type { z } from 'zod';
import type { Problem } from './http.js';

/**
 * Zod issues as problems that each name one field: an unknown field is reported at its own path
 * (`overrides.builder.colour`), and `prefix` says where the value came from (`query`, `path`).
 */
export function problemsOf(issues: readonly z.core.$ZodIssue[], prefix?: string): Problem[] {
  return issues.flatMap((issue) => {
    const at = (path: readonly PropertyKey[]) =>
      [prefix, ...path.map(String)].filter((p) => p !== undefined).join('.') || '(body)';
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: at([...issue.path, key]),
        message: prefix === 'query' ? 'unknown query parameter' : 'unknown field',
      }));
    }
    if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      return [{ path: at(issue.path), message: issue.issues.map((i) => i.message).join('; ') }];
    }
    return [{ path: at(issue.path), message: issue.message }];
  });
}

/** Parses a value; returns the problems instead of throwing so a request's problems are reported together. */
export function check<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix?: string,
): { ok: true; value: z.output<S> } | { ok: false; problems: Problem[] } {
  const parsed = schema.safeParse(value);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, problems: problemsOf(parsed.error.issues, prefix) };
}
