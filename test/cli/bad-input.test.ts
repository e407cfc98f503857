import { describe, expect, it } from 'vitest';
import { BAKE_ID, cli, STATE_MACHINE_ARN, useFakeAws } from './helpers.js';

/** Every AWS call reaches this fake, which records it: bad input must not make any. */
describe('bad input exits 2 without calling AWS', () => {
  const aws = useFakeAws();
  const arn = ['--state-machine-arn', STATE_MACHINE_ARN];

  it.each([
    [
      'an unknown recipe',
      ['start', 'no-such-recipe', ...arn],
      /recipe no-such-recipe is not in the catalog recipes\//,
    ],
    [
      'a recipe file outside the catalog',
      ['start', 'test/fixtures/recipes/valid/minimal.yml', ...arn],
      /not in the catalog/,
    ],
    ['no recipe', ['start', ...arn], /give a recipe name or a recipe file/],
    ['two recipes', ['start', 'example-web', 'example-web', ...arn], /give exactly one/],
    [
      'an override that cannot be set',
      ['start', 'example-web', '--set', 'base.imageId=ami-1', ...arn],
      /--set base\.imageId: cannot be set/,
    ],
    [
      'an override without a value',
      ['start', 'example-web', '--set', 'builder.instanceType', ...arn],
      /expected path=value/,
    ],
    [
      'a non-numeric timeout override',
      ['start', 'example-web', '--set', 'bootstrap.timeoutMinutes=soon', ...arn],
      /expected a whole number/,
    ],
    [
      'an override the recipe schema rejects',
      ['start', 'example-web', '--set', 'distribution.regions=mars-north-1', ...arn],
      /overrides\.distribution\.regions/,
    ],
    [
      'an idempotency key with spaces',
      ['start', 'example-web', '--idempotency-key', 'a b', ...arn],
      /idempotencyKey: must be 1-128 printable/,
    ],
    [
      'a malformed state machine ARN',
      ['start', 'example-web', '--state-machine-arn', 'ami-bake-dev'],
      /is not a Step Functions state machine ARN/,
    ],
    [
      'both --stack and --stage',
      ['list', '--stack', 'a', '--stage', 'b'],
      /give --stack or --stage, not both/,
    ],
    ['a region that does not exist', ['list', '--region', 'mars'], /--region "mars" is not an AWS region/],
    [
      "a region other than the ARN's",
      ['list', '--region', 'eu-west-1', ...arn],
      /does not match the state machine's region us-east-1/,
    ],
    ['an unknown option', ['list', '--colour', 'blue'], /Unknown option '--colour'/],
    [
      'an unknown status',
      ['list', '--status', 'baking', ...arn],
      /--status baking: one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED/,
    ],
    ['a zero limit', ['list', '--limit', '0', ...arn], /--limit 0: give a whole number from 1 to 1000/],
    [
      'a recipe filter that is not a recipe name',
      ['list', '--recipe', 'Example Web', ...arn],
      /not a recipe name/,
    ],
    [
      'a malformed bake id',
      ['status', 'Not a bake!', ...arn],
      /bake id "Not a bake!" must be 8-80 lowercase/,
    ],
    ['no bake id', ['cancel', ...arn], /give a bake id/],
    ['a zero watch interval', ['watch', BAKE_ID, '--interval', '0', ...arn], /--interval 0: give seconds/],
    ['bake without --local', ['bake', 'recipes/example.yml'], /bake runs locally and needs --local/],
  ])('for %s', async (_, argv, message) => {
    // Prepare
    aws.reply(() => ({ status: 500, body: { __type: 'InternalError', message: 'must not be called' } }));

    // Act
    const { code, stdout, stderr } = await cli(...argv);

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(aws.calls).toEqual([]);
  });

  it('prints the problems as one JSON document with --json', async () => {
    // Prepare
    aws.reply(() => ({ status: 500, body: {} }));

    // Act
    const { code, stdout } = await cli(
      'start',
      'example-web',
      '--set',
      'builder.colour=blue',
      '--set',
      'bootstrap.timeoutMinutes=x',
      '--json',
      ...arn,
    );

    // Assess
    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({
      status: 'error',
      exitCode: 2,
      error: 'UsageError',
      problems: [
        { path: '--set builder.colour', message: expect.stringContaining('cannot be set') },
        { path: '--set bootstrap.timeoutMinutes', message: 'expected a whole number, not "x"' },
      ],
    });
    expect(aws.calls).toEqual([]);
  });
});
