import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../../lib/recipe/load.js';

/** Breaks every whole-recipe rule at once: public with encrypted volumes, a long name, shared with the AWS key. */
const wholeRecipeBroken = () => ({
  name: 'web',
  base: { imageId: 'ami-0123456789abcdef0' },
  builder: { instanceType: 't3.micro' } as Record<string, unknown>,
  bootstrap: { script: 'echo hi' } as Record<string, unknown>,
  image: { name: `{recipe}-{bakeId}-${'x'.repeat(60)}` } as Record<string, unknown>,
  distribution: { launchPermissions: { public: true, accounts: ['123456789012'] } },
});

const WHOLE_RECIPE_PATHS = ['distribution.launchPermissions.public', 'image.name', 'distribution.regions'];

async function problemPaths(raw: unknown): Promise<string[]> {
  const result = await parseRecipe(raw, process.cwd());
  if (result.ok) throw new Error('the recipe was accepted');
  return result.problems.map((p) => p.path);
}

describe('a recipe with field problems and whole-recipe problems', () => {
  it.each([
    {
      name: 'a field of the wrong type',
      field: 'builder.instanceType',
      edit: (r: ReturnType<typeof wholeRecipeBroken>) => {
        r.builder.instanceType = 5;
      },
    },
    {
      name: 'a reserved tag key',
      field: 'image.tags.aws:x',
      edit: (r: ReturnType<typeof wholeRecipeBroken>) => {
        r.image.tags = { 'aws:x': 'y' };
      },
    },
    {
      name: 'a missing bootstrap',
      field: 'bootstrap',
      edit: (r: Partial<ReturnType<typeof wholeRecipeBroken>>) => {
        delete r.bootstrap;
      },
    },
    {
      name: 'a bad timeout',
      field: 'bootstrap.timeoutMinutes',
      edit: (r: ReturnType<typeof wholeRecipeBroken>) => {
        r.bootstrap.timeoutMinutes = 'soon';
      },
    },
  ])('reports $name and every whole-recipe problem in one run', async ({ field, edit }) => {
    // Prepare
    const raw = wholeRecipeBroken();
    edit(raw);

    // Act
    const paths = await problemPaths(raw);

    // Assess
    expect(paths).toEqual(expect.arrayContaining([field, ...WHOLE_RECIPE_PATHS]));
  });

  it('skips a whole-recipe check whose own fields did not parse, without crashing', async () => {
    // Prepare
    const raw = { ...wholeRecipeBroken(), builder: 'big', distribution: { launchPermissions: 'everyone' } };

    // Act
    const paths = await problemPaths(raw);

    // Assess: the image name is still checked; sharing cannot be judged
    expect(paths).toEqual(['builder', 'distribution.launchPermissions', 'image.name']);
  });
});

describe('a part of a recipe with a field problem and a problem across its fields', () => {
  const valid = () => ({
    name: 'web',
    base: { imageId: 'ami-0123456789abcdef0' } as Record<string, unknown>,
    builder: { instanceType: 't3.micro' },
    bootstrap: { script: 'echo hi' } as Record<string, unknown>,
  });
  const SNS = 'arn:aws:sns:us-east-1:123456789012:updates';

  it.each([
    {
      name: 'two base selectors',
      part: { base: { imageId: 'ami-0123456789abcdef0', ssmParameter: 5 } },
      paths: ['base.ssmParameter', 'base'],
    },
    {
      name: 'both script and file',
      part: { bootstrap: { script: 'echo hi', file: 'run.sh', timeoutMinutes: 'soon' } },
      paths: ['bootstrap.timeoutMinutes', 'bootstrap'],
    },
    {
      name: 'a region listed twice',
      part: { distribution: { regions: ['eu-west-1', 'eu-west-1'], copyTimeoutMinutes: 'x' } },
      paths: ['distribution.copyTimeoutMinutes', 'distribution.regions.1'],
    },
    {
      name: 'a trigger named twice',
      part: {
        triggers: [
          { name: 't', sns: SNS },
          { name: 't', sns: SNS, force: 'yes' },
        ],
      },
      paths: ['triggers.1.force', 'triggers.1.name'],
    },
    {
      name: 'a trigger with both pattern and sns',
      part: { triggers: [{ name: 5, sns: SNS, pattern: { source: ['aws.ec2'] } }] },
      paths: ['triggers.0.name', 'triggers.0'],
    },
    {
      name: 'a bad schedule expression',
      part: { schedule: { expression: 'every day', enabled: 'yes' } },
      paths: ['schedule.enabled', 'schedule.expression'],
    },
  ])('reports $name along with the field problem next to it', async ({ part, paths }) => {
    // Act
    const found = await problemPaths({ ...valid(), ...part });

    // Assess
    expect(found).toEqual(expect.arrayContaining(paths));
  });
});
