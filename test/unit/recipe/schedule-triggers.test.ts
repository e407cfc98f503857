import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Problem, problemsOf } from '../../../lib/problems.js';
import { loadRecipeFile } from '../../../lib/recipe/load.js';
import { recipeSchema } from '../../../lib/recipe/schema.js';

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/recipes/${path}`, import.meta.url));

const minimal = () => ({
  name: 'web',
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
  builder: { instanceType: 't3.micro' },
  bootstrap: { script: '#!/bin/bash\necho hi\n' },
});

const ssmTrigger = {
  name: 'base-image-released',
  pattern: {
    source: ['aws.ssm'],
    'detail-type': ['Parameter Store Change'],
    // The account's own parameter: Parameter Store Change events reach only the owner's account.
    detail: { name: ['/platform/base-ami/web'] },
  },
};
const AL2023_TOPIC = 'arn:aws:sns:us-east-1:137112412989:amazon-linux-2023-ami-updates';

/** The problems of a recipe with these extra fields, as the CLI and the catalog report them. */
function problemsWith(fields: Record<string, unknown>): Problem[] {
  const parsed = recipeSchema.safeParse({ ...minimal(), ...fields });
  return parsed.success ? [] : problemsOf(parsed.error.issues);
}

describe('schedule', () => {
  it.each([
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(1 hour)',
    'rate(12 hours)',
    'rate(1 day)',
    'rate(7 days)',
    'cron(0 3 ? * SUN *)',
    'cron(30 2 * * ? *)',
    'cron(0/15 8-17 ? * MON-FRI *)',
    'cron(0 10 ? * 6L 2027)',
  ])('accepts %s', (expression) => {
    // Act
    const problems = problemsWith({ schedule: { expression } });

    // Assess
    expect(problems).toEqual([]);
  });

  it('defaults to UTC and enabled', () => {
    // Act
    const recipe = recipeSchema.parse({ ...minimal(), schedule: { expression: 'rate(1 day)' } });

    // Assess
    expect(recipe.schedule).toEqual({ expression: 'rate(1 day)', timezone: 'UTC', enabled: true });
  });

  it('is optional: a recipe without one is baked on request only', () => {
    // Act
    const recipe = recipeSchema.parse(minimal());

    // Assess
    expect(recipe.schedule).toBeUndefined();
    expect(recipe.triggers).toBeUndefined();
  });

  it.each([
    { expression: 'rate(1 days)', message: 'write rate(1 day): the unit is singular for 1' },
    { expression: 'rate(2 hour)', message: 'write rate(2 hours): the unit is plural above 1' },
    { expression: 'rate(0 minutes)', message: 'rate must be at least 1' },
    { expression: 'rate(1.5 hours)', message: 'rate must be rate(N minutes|hours|days)' },
    { expression: 'rate(1 week)', message: 'rate must be rate(N minutes|hours|days)' },
    { expression: 'cron(0 3 * * ?)', message: 'cron needs exactly 6 fields' },
    { expression: 'cron(0 3 ? * SUN * extra)', message: 'cron needs exactly 6 fields' },
    {
      expression: 'cron(0 3 * * SUN *)',
      message: 'cron needs ? in exactly one of day-of-month and day-of-week',
    },
    {
      expression: 'cron(0 3 ? * ? *)',
      message: 'cron needs ? in exactly one of day-of-month and day-of-week',
    },
    { expression: 'cron(0 3 ? * SUN $)', message: 'cron field year has an unexpected character' },
    { expression: '0 3 * * 0', message: 'must be rate(...) or cron(...)' },
  ])('refuses $expression at schedule.expression, saying why', ({ expression, message }) => {
    // Act
    const problems = problemsWith({ schedule: { expression } });

    // Assess
    expect(problems).toEqual([{ path: 'schedule.expression', message: expect.stringContaining(message) }]);
  });

  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'])(
    'accepts the time zone %s',
    (timezone) => {
      // Act
      const problems = problemsWith({ schedule: { expression: 'cron(0 3 ? * SUN *)', timezone } });

      // Assess
      expect(problems).toEqual([]);
    },
  );

  it.each([
    { timezone: 'Mars/Olympus_Mons', message: 'unknown time zone "Mars/Olympus_Mons"' },
    { timezone: 'CEST', message: 'unknown time zone "CEST"' },
    { timezone: 'europe/berlin', message: 'write the time zone as Europe/Berlin' },
  ])('refuses the time zone $timezone at schedule.timezone', ({ timezone, message }) => {
    // Act
    const problems = problemsWith({ schedule: { expression: 'cron(0 3 ? * SUN *)', timezone } });

    // Assess
    expect(problems).toEqual([{ path: 'schedule.timezone', message: expect.stringContaining(message) }]);
  });

  it('refuses enabled: "false" (a string) and unknown fields', () => {
    // Act
    const problems = problemsWith({ schedule: { expression: 'rate(1 day)', enabled: 'false', tz: 'UTC' } });

    // Assess
    expect(problems).toEqual([
      { path: 'schedule.enabled', message: expect.stringContaining('expected boolean') },
      { path: 'schedule', message: 'unknown field tz' },
    ]);
  });
});

describe('triggers', () => {
  it('default to no force, and name no bus (the rule listens on the default bus)', () => {
    // Act
    const recipe = recipeSchema.parse({ ...minimal(), triggers: [ssmTrigger] });

    // Assess
    expect(recipe.triggers).toEqual([{ ...ssmTrigger, force: false }]);
  });

  it.each([
    { what: 'a source only', pattern: { source: ['com.example.builds'] } },
    { what: 'a detail-type only', pattern: { 'detail-type': ['Release Published'] } },
    { what: 'a detail only', pattern: { detail: { repository: ['web'] } } },
    {
      what: 'content filters',
      pattern: { source: [{ prefix: 'com.example.' }], detail: { tag: [{ exists: true }] } },
    },
    {
      what: '$or',
      pattern: { source: ['aws.ssm'], $or: [{ detail: { a: ['1'] } }, { detail: { b: ['2'] } }] },
    },
    { what: 'anything-but ami-bake', pattern: { source: [{ 'anything-but': ['ami-bake', 'aws.ec2'] }] } },
  ])('accept a pattern with $what', ({ pattern }) => {
    // Act
    const problems = problemsWith({ triggers: [{ name: 'go', pattern }] });

    // Assess
    expect(problems).toEqual([]);
  });

  it.each([
    {
      what: 'a pattern with none of source, detail-type, detail',
      trigger: { name: 'go', pattern: { account: ['111122223333'] } },
      path: 'triggers.0.pattern',
      message: 'at least one of source, detail-type or detail',
    },
    {
      what: 'a bare string where EventBridge needs a list',
      trigger: { name: 'go', pattern: { source: 'aws.ssm' } },
      path: 'triggers.0.pattern.source',
      message: 'must be a list of values to match, e.g. ["aws.ssm"]',
    },
    {
      what: 'a nested bare value',
      trigger: { name: 'go', pattern: { source: ['aws.ssm'], detail: { name: '/x' } } },
      path: 'triggers.0.pattern.detail.name',
      message: 'must be a list of values to match',
    },
    {
      what: 'an empty list',
      trigger: { name: 'go', pattern: { source: [] } },
      path: 'triggers.0.pattern.source',
      message: 'an empty list matches nothing',
    },
    {
      what: 'ami-bake events (a loop)',
      trigger: { name: 'go', pattern: { source: ['ami-bake'] } },
      path: 'triggers.0.pattern.source',
      message: "must not match ami-bake's own events",
    },
    {
      what: 'a prefix matching ami-bake',
      trigger: { name: 'go', pattern: { source: [{ prefix: 'ami-' }] } },
      path: 'triggers.0.pattern.source',
      message: "must not match ami-bake's own events",
    },
    {
      what: 'a wildcard matching ami-bake',
      trigger: { name: 'go', pattern: { source: [{ wildcard: 'ami*' }] } },
      path: 'triggers.0.pattern.source',
      message: "must not match ami-bake's own events",
    },
    {
      what: 'anything-but something else',
      trigger: { name: 'go', pattern: { source: [{ 'anything-but': 'aws.ec2' }] } },
      path: 'triggers.0.pattern.source',
      message: "must not match ami-bake's own events",
    },
    {
      what: 'a Bake detail-type from any source',
      trigger: { name: 'go', pattern: { 'detail-type': ['Bake Succeeded'] } },
      path: 'triggers.0.pattern.source',
      message: "must not match ami-bake's own events",
    },
    {
      what: 'a name with capitals',
      trigger: { ...ssmTrigger, name: 'Base' },
      path: 'triggers.0.name',
      message: 'must be lowercase letters, digits and dashes',
    },
    {
      what: 'a name ending with a dash',
      trigger: { ...ssmTrigger, name: 'base-' },
      path: 'triggers.0.name',
      message: 'must be lowercase letters, digits and dashes',
    },
    {
      what: 'a bus that is neither a name nor an ARN',
      trigger: { ...ssmTrigger, bus: 'my bus' },
      path: 'triggers.0.bus',
      message: 'must be an event bus name or ARN',
    },
    {
      what: 'force: "yes" (a string)',
      trigger: { ...ssmTrigger, force: 'yes' },
      path: 'triggers.0.force',
      message: 'expected boolean',
    },
    {
      what: 'an unknown field',
      trigger: { ...ssmTrigger, rule: 'x' },
      path: 'triggers.0',
      message: 'unknown field rule',
    },
    {
      what: 'neither a pattern nor sns',
      trigger: { name: 'go' },
      path: 'triggers.0',
      message: 'give exactly one of pattern (an EventBridge event pattern) or sns (a topic ARN)',
    },
  ])('refuse $what at $path', ({ trigger, path, message }) => {
    // Act
    const problems = problemsWith({ triggers: [trigger] });

    // Assess
    expect(problems).toEqual([{ path, message: expect.stringContaining(message) }]);
  });

  it('refuse a trigger name used twice in one recipe, at the second one', () => {
    // Act
    const problems = problemsWith({ triggers: [ssmTrigger, { ...ssmTrigger, bus: 'other' }] });

    // Assess
    expect(problems).toEqual([
      { path: 'triggers.1.name', message: 'trigger base-image-released is named twice' },
    ]);
  });

  it('accept an event bus ARN and force: true', () => {
    // Prepare
    const bus = 'arn:aws:events:eu-west-1:111122223333:event-bus/security';

    // Act
    const recipe = recipeSchema.parse({ ...minimal(), triggers: [{ ...ssmTrigger, bus, force: true }] });

    // Assess
    expect(recipe.triggers?.[0]).toMatchObject({ bus, force: true });
  });
});

describe('SNS triggers', () => {
  it('take a topic ARN instead of a pattern, with no force by default', () => {
    // Act
    const recipe = recipeSchema.parse({
      ...minimal(),
      triggers: [{ name: 'al2023-released', sns: AL2023_TOPIC }],
    });

    // Assess
    expect(recipe.triggers).toEqual([{ name: 'al2023-released', sns: AL2023_TOPIC, force: false }]);
  });

  it.each([
    { what: 'both sns and a pattern', trigger: { ...ssmTrigger, sns: AL2023_TOPIC }, path: 'triggers.0' },
    {
      what: 'a bus with sns',
      trigger: { name: 'x', sns: AL2023_TOPIC, bus: 'other' },
      path: 'triggers.0.bus',
    },
    {
      what: 'an ARN of something else',
      trigger: { name: 'x', sns: 'arn:aws:sqs:us-east-1:123456789012:q' },
      path: 'triggers.0.sns',
    },
    { what: 'a FIFO topic', trigger: { name: 'x', sns: `${AL2023_TOPIC}.fifo` }, path: 'triggers.0.sns' },
  ])('refuse $what, at $path', ({ trigger, path }) => {
    // Act
    const problems = problemsWith({ triggers: [trigger] });

    // Assess
    expect(problems.map((p) => p.path)).toEqual([path]);
  });

  it.each([
    {
      what: 'a listed public parameter',
      name: ['/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'],
    },
    { what: 'a prefix of public parameters', name: [{ prefix: '/aws/service/ami-amazon-linux-latest/' }] },
  ])(
    "refuse Parameter Store Change events on AWS's public parameters ($what), which never reach an account, pointing to SNS",
    ({ name }) => {
      // Act
      const problems = problemsWith({
        triggers: [
          {
            name: 'base-image-released',
            pattern: { source: ['aws.ssm'], 'detail-type': ['Parameter Store Change'], detail: { name } },
          },
        ],
      });

      // Assess
      expect(problems).toEqual([
        {
          path: 'triggers.0.pattern.detail.name',
          message: expect.stringMatching(
            /never delivered to your account.*sns: arn:aws:sns:us-east-1:137112412989:amazon-linux-2023-ami-updates/,
          ),
        },
      ]);
    },
  );
});

describe('recipe files with a schedule and triggers', () => {
  it('load with their defaults applied', async () => {
    // Act
    const result = await loadRecipeFile(fixture('valid/scheduled.yml'));

    // Assess
    expect(result.ok && result.recipe.schedule).toEqual({
      expression: 'cron(30 2 * * ? *)',
      timezone: 'America/New_York',
      enabled: true,
    });
    expect(result.ok && result.recipe.triggers?.map((t) => [t.name, t.bus ?? t.sns, t.force])).toEqual([
      ['base-image-released', 'arn:aws:sns:us-east-1:137112412989:amazon-linux-2023-ami-updates', false],
      ['security-bulletin', 'security-events', true],
    ]);
  });

  it.each([
    { file: 'schedule-rate-plural-one.yml', path: 'schedule.expression', message: 'write rate(1 day)' },
    { file: 'schedule-not-an-object.yml', path: 'schedule', message: 'expected object, received string' },
    {
      file: 'trigger-on-own-events.yml',
      path: 'triggers.0.pattern.source',
      message: "must not match ami-bake's own events",
    },
  ])('are rejected with the path of the mistake ($file)', async ({ file, path, message }) => {
    // Act
    const result = await loadRecipeFile(fixture(`invalid/${file}`));

    // Assess
    expect(result).toEqual({ ok: false, problems: [{ path, message: expect.stringContaining(message) }] });
  });
});
