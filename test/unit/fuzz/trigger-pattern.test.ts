import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { problemsOf } from '../../../lib/problems.js';
import { triggerSchema } from '../../../lib/recipe/triggers.js';
import { anyValue, expectProblemList, fuzzParams } from './problems.js';

const OWN_SOURCE = 'ami-bake';

/** Every way an EventBridge `source` matcher can match ami-bake's own events (the loop guard's job). */
const matchesOwnSource = fc.oneof(
  fc.constant(OWN_SOURCE),
  fc.integer({ min: 0, max: OWN_SOURCE.length }).map((n) => ({ prefix: OWN_SOURCE.slice(0, n) })),
  fc.integer({ min: 0, max: OWN_SOURCE.length }).map((n) => ({ suffix: OWN_SOURCE.slice(n) })),
  fc.array(fc.boolean(), { minLength: OWN_SOURCE.length, maxLength: OWN_SOURCE.length }).map((upper) => ({
    'equals-ignore-case': [...OWN_SOURCE].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''),
  })),
  fc
    .array(fc.boolean(), { minLength: OWN_SOURCE.length, maxLength: OWN_SOURCE.length })
    .map((star) => ({ wildcard: [...OWN_SOURCE].map((c, i) => (star[i] ? '*' : c)).join('') })),
  fc.constantFrom({ 'anything-but': 'aws.ec2' }, { 'anything-but': ['aws.ssm'] }, { exists: true }),
);

const trigger = (pattern: unknown) => ({ name: 'fuzzed', pattern });

describe('trigger patterns, property-based', () => {
  it('answers any pattern with a trigger or problems naming the field, never a crash', () => {
    const pattern = fc.oneof(
      anyValue,
      fc.dictionary(fc.constantFrom('source', 'detail-type', 'detail', '$or', 'account', 'x'), anyValue),
    );
    fc.assert(
      fc.property(pattern, (p) => {
        const parsed = triggerSchema.safeParse(trigger(p));
        if (!parsed.success) expectProblemList(problemsOf(parsed.error.issues));
      }),
      fuzzParams(1_500),
    );
  });

  it('refuses every pattern that may match ami-bake events, at source (no bake loop)', () => {
    fc.assert(
      fc.property(
        fc.array(matchesOwnSource, { minLength: 1, maxLength: 3 }),
        fc.option(fc.constantFrom(['Bake Succeeded'], ['Bake Failed'], [{ prefix: 'Bake' }]), {
          nil: undefined,
        }),
        (source, detailType) => {
          const parsed = triggerSchema.safeParse(
            trigger({ source, ...(detailType ? { 'detail-type': detailType } : {}) }),
          );
          expect(parsed.success).toBe(false);
          if (parsed.success) return;
          expect(problemsOf(parsed.error.issues).map((p) => p.path)).toContain('pattern.source');
        },
      ),
      fuzzParams(1_500),
    );
  });
});
