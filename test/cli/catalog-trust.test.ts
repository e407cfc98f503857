import { describe, expect, it } from 'vitest';
import { cli, STATE_MACHINE_ARN, useFakeAws } from './helpers.js';

/** `ami-bake start` checks the recipe's override bounds offline: exit 2, no AWS call. */
describe('start refuses what the recipe does not allow, before calling AWS', () => {
  const aws = useFakeAws();
  const arn = ['--state-machine-arn', STATE_MACHINE_ARN];

  it.each([
    [
      'an instance type the recipe does not list',
      ['start', 'example-web', '--set', 'builder.instanceType=p5.48xlarge', ...arn],
      /overrides\.builder\.instanceType: p5\.48xlarge is not allowed by the recipe example-web/,
    ],
    [
      'a region the recipe does not bake to',
      ['start', 'example-web', '--set', 'distribution.regions=sa-east-1', ...arn],
      /overrides\.distribution\.regions\.0: sa-east-1 is not allowed by the recipe example-web/,
    ],
    [
      'force on a recipe that does not allow it',
      ['start', 'example-web-scheduled', '--force', ...arn],
      /force: the recipe example-web-scheduled does not allow forced bakes/,
    ],
  ])('for %s', async (_, argv, message) => {
    // Prepare
    aws.reply(() => ({ status: 500, body: { __type: 'InternalError', message: 'must not be called' } }));

    // Act
    const { code, stdout, stderr } = await cli(...argv);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(aws.calls).toEqual([]);
  });
});
