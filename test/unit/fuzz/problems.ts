import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * Shared by the property-based tests. A rejected input must get a list of problems, each naming
 * where (a field path, or `(root)`, `(yaml)`, `(body)` for the input as a whole) and what.
 */
export function expectProblemList(problems: readonly { path: string; message: string }[]): void {
  expect(problems.length).toBeGreaterThan(0);
  for (const p of problems) {
    expect(typeof p.path).toBe('string');
    expect(p.path.length).toBeGreaterThan(0);
    expect(typeof p.message).toBe('string');
    expect(p.message.trim().length).toBeGreaterThan(0);
  }
}

/**
 * Runs per property, chosen so the four files together generate over 10,000 inputs in about 30 s
 * on the 2-core CI machine (measured: see docs/security.md). A run that takes longer than
 * `timeout` ms fails the property: that is how a hang is caught. `FUZZ_RUNS_SCALE` raises or
 * lowers every count for a deeper local run.
 */
export function fuzzParams(numRuns: number): fc.Parameters<unknown> {
  const scale = Number(process.env.FUZZ_RUNS_SCALE ?? '1');
  return { numRuns: Math.max(1, Math.round(numRuns * scale)), timeout: 2_000, endOnFailure: true };
}

/** Values of every JSON-ish kind, including the awkward ones (prototype keys, huge numbers, deep). */
export const anyValue = fc.oneof(
  fc.anything({ withNullPrototype: true, withObjectString: true, maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 6 }),
  fc.constantFrom('__proto__', 'constructor', '', ' ', '\u0000', 'ami-bake', Number.NaN, -0, 1e308, [], {}),
);

/** The JavaScript type of a value as JSON sees it: what a field's schema expects. */
export const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
