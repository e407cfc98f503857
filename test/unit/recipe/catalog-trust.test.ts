import { describe, expect, it } from 'vitest';
import { type Problem, problemsOf } from '../../../lib/problems.js';
import { recipeSchema } from '../../../lib/recipe/schema.js';

const minimal = () => ({
  name: 'web',
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
  builder: { instanceType: 't3.micro' },
  bootstrap: { script: '#!/bin/bash\necho hi\n' },
});

function problemsWith(fields: Record<string, unknown>): Problem[] {
  const parsed = recipeSchema.safeParse({ ...minimal(), ...fields });
  return parsed.success ? [] : problemsOf(parsed.error.issues);
}

describe('reserved tag prefix', () => {
  it.each(['AMI-BAKE:bake-id', 'Ami-Bake:recipe', 'ami-BAKE:x'])(
    'rejects %s: IAM compares tag keys without regard to case',
    (key) => {
      // Act
      const problems = problemsWith({ image: { tags: { [key]: 'forged' } } });

      // Assess
      expect(problems).toEqual([
        { path: `image.tags.${key}`, message: expect.stringContaining('reserved for lineage tags') },
      ]);
    },
  );
});

describe('trigger loop guard', () => {
  it.each([
    { what: 'a suffix matching ami-bake', pattern: { source: [{ suffix: '-bake' }] } },
    { what: 'equals-ignore-case ami-bake', pattern: { source: [{ 'equals-ignore-case': 'AMI-BAKE' }] } },
    { what: 'any source (exists)', pattern: { source: [{ exists: true }], 'detail-type': ['Bake Failed'] } },
    { what: 'a detail-type prefix of our events', pattern: { 'detail-type': [{ prefix: 'Bake ' }] } },
    { what: 'a detail-type wildcard of our events', pattern: { 'detail-type': [{ wildcard: 'Bake *' }] } },
    {
      what: 'anything-but a prefix that is not ours',
      pattern: { source: [{ 'anything-but': { prefix: 'aws.' } }] },
    },
  ])('rejects $what: a bake would start bakes in a loop', ({ pattern }) => {
    // Act
    const problems = problemsWith({ triggers: [{ name: 'go', pattern }] });

    // Assess
    expect(problems).toEqual([
      {
        path: 'triggers.0.pattern.source',
        message: expect.stringContaining("must not match ami-bake's own events"),
      },
    ]);
  });

  it.each([
    { what: 'a suffix that is not ours', pattern: { source: [{ suffix: '.release' }] } },
    { what: 'exists: false', pattern: { source: [{ exists: false }], 'detail-type': ['Release'] } },
    { what: 'a detail-type prefix that is not ours', pattern: { 'detail-type': [{ prefix: 'Release ' }] } },
  ])('accepts $what', ({ pattern }) => {
    // Act
    const problems = problemsWith({ triggers: [{ name: 'go', pattern }] });

    // Assess
    expect(problems).toEqual([]);
  });

  it('rejects a forced trigger on EC2 image-available events: our own images would start bakes forever', () => {
    // Prepare
    const pattern = {
      source: ['aws.ec2'],
      'detail-type': ['EC2 AMI State Change'],
      detail: { State: ['available'] },
    };

    // Act
    const problems = problemsWith({ triggers: [{ name: 'go', pattern, force: true }] });

    // Assess
    expect(problems).toEqual([
      { path: 'triggers.0.force', message: expect.stringContaining('images this stack creates') },
    ]);
  });

  it('accepts the same EC2 image trigger without force: an unchanged recipe skips itself', () => {
    // Prepare
    const pattern = { source: ['aws.ec2'], 'detail-type': ['EC2 AMI State Change'] };

    // Act
    const problems = problemsWith({ triggers: [{ name: 'go', pattern }] });

    // Assess
    expect(problems).toEqual([]);
  });
});
