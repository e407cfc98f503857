import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateTagsCommand, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { TAG } from '../../lib/tags.js';
import { ec2, useEmulator } from '../e2e/helpers.js';
import { cli, spawnCli } from './helpers.js';

const region = 'us-east-1';
const definition = JSON.stringify({ StartAt: 'Wait', States: { Wait: { Type: 'Pass', End: true } } });
const role = 'arn:aws:iam::123456789012:role/ami-bake-test-states';

/** The emulator runs nothing: started executions stay RUNNING until stopped, like a long bake. */
describe('ami-bake start, list, status and cancel against a deployed stack (AWS emulator)', () => {
  const emulator = useEmulator();
  const sfn = () => new SFNClient({ region, maxAttempts: 1 });
  let stackStateMachineArn = '';

  beforeAll(async () => {
    process.env.AWS_MAX_ATTEMPTS = '1';
    // What the real stack exposes, as outputs of a stack named ami-bake-<stage>.
    const template = {
      Resources: {
        BakeStateMachine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { StateMachineName: 'ami-bake-test', RoleArn: role, DefinitionString: definition },
        },
      },
      Outputs: {
        StateMachineArn: { Value: { Ref: 'BakeStateMachine' } },
        EventBusName: { Value: 'ami-bake-test' },
      },
    };
    const cfn = new CloudFormationClient({ region, maxAttempts: 1 });
    await cfn.send(
      new CreateStackCommand({ StackName: 'ami-bake-test', TemplateBody: JSON.stringify(template) }),
    );
    await new EventBridgeClient({ region }).send(new CreateEventBusCommand({ Name: 'ami-bake-test' }));
    stackStateMachineArn = `arn:aws:states:${region}:123456789012:stateMachine:ami-bake-test`;
  });

  async function execution(executionArn: string) {
    const d = await sfn().send(new DescribeExecutionCommand({ executionArn }));
    return { status: d.status, input: JSON.parse(d.input ?? '{}') };
  }

  it('starts a bake of a catalog recipe on the stack found by --stage, with the reason in its input', async () => {
    // Act
    const { code, stdout, stderr } = await cli(
      'start',
      'example-web',
      '--stage',
      'test',
      '--reason',
      'CVE-2026-1',
    );

    // Assess
    expect(code).toBe(0);
    expect(stderr).toContain('Looking up stack ami-bake-test…');
    const bakeId = /^Started bake (\S+) \(example-web\)$/m.exec(stdout)?.[1] ?? '';
    expect(bakeId).toMatch(/^example-web_[0-9a-f]{12}_\d{14}[0-9a-f]{4}$/);
    expect(stdout).toContain(`ami-bake watch ${bakeId} --stage test`);
    const started = await execution(
      `${stackStateMachineArn.replace(':stateMachine:', ':execution:')}:${bakeId}`,
    );
    expect(started.status).toBe('RUNNING');
    // The recipe's name, never the recipe: the stack bakes what its own catalog says.
    expect(started.input).toEqual({
      bakeId,
      recipeName: 'example-web',
      request: { source: 'cli', reason: 'CVE-2026-1' },
    });
  });

  it('returns the running bake of the same content instead of starting a twin', async () => {
    // Act
    const first = JSON.parse((await cli('start', 'recipes/example.yml', '--stage', 'test', '--json')).stdout);
    const second = await cli('start', 'example-web', '--stage', 'test', '--json');

    // Assess
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({
      status: 'existing',
      bakeId: first.bakeId,
      executionArn: first.executionArn,
      recipe: 'example-web',
      contentKey: first.contentKey,
      stateMachineArn: stackStateMachineArn,
      region,
    });
  });

  it('starts one bake per idempotency key, sending the recipe name and the --set overrides', async () => {
    // Act
    const args = ['start', 'example-web', '--stage', 'test', '--json', '--idempotency-key', 'deploy-1842'];
    const sets = ['--set', 'builder.instanceType=t3.large', '--set', 'image.tags.ticket=OPS-42'];
    const first = JSON.parse((await cli(...args, ...sets)).stdout);
    const again = JSON.parse((await cli(...args, ...sets)).stdout);

    // Assess
    expect(first.status).toBe('started');
    expect(again).toMatchObject({ status: 'existing', bakeId: first.bakeId });
    const { input } = await execution(first.executionArn);
    // The name and the overrides only: the stack's ResolveRecipe loads the recipe from its catalog.
    expect(input).toEqual({
      bakeId: first.bakeId,
      recipeName: 'example-web',
      overrides: { builder: { instanceType: 't3.large' }, image: { tags: { ticket: 'OPS-42' } } },
      request: { source: 'cli' },
    });
  });

  it('skips the bake when images with the same content exist in every region', async () => {
    // Prepare: the images a previous bake of example-web would have left, tagged with its content key.
    const { contentKey } = JSON.parse(
      (await cli('start', 'example-web', '--stage', 'test', '--json', '--idempotency-key', 'probe')).stdout,
    );
    const images: Record<string, string> = {};
    for (const r of ['us-east-1', 'eu-west-1', 'ap-southeast-2']) {
      const { ImageId = '' } = await ec2(r).send(
        new RegisterImageCommand({ Name: `example-web-${r}`, RootDeviceName: '/dev/xvda' }),
      );
      await ec2(r).send(
        new CreateTagsCommand({ Resources: [ImageId], Tags: [{ Key: TAG.contentKey, Value: contentKey }] }),
      );
      images[r] = ImageId;
    }

    // Act
    const { code, stdout } = await cli('start', 'example-web', '--stage', 'test', '--json');

    // Assess
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ status: 'skipped', recipe: 'example-web', contentKey });
    expect(
      Object.fromEntries(
        Object.entries(result.images).map(([r, i]) => [r, (i as { imageId: string }).imageId]),
      ),
    ).toEqual(images);
  });

  it('lists the bakes of the stack, filtered by recipe and status, as a table or JSON', async () => {
    // Act
    const all = await cli('list', '--stage', 'test', '--json');
    const table = await cli('list', '--stage', 'test', '--status', 'running', '--limit', '2');
    const none = await cli('list', '--stage', 'test', '--recipe', 'example-web-scheduled', '--json');

    // Assess
    expect(all.code).toBe(0);
    const bakes = JSON.parse(all.stdout).bakes as { bakeId: string; recipe: string; status: string }[];
    expect(bakes.length).toBeGreaterThanOrEqual(3);
    expect(bakes.every((b) => b.recipe === 'example-web' && b.status === 'RUNNING')).toBe(true);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Bake +Recipe +Status +Started +Duration\n/);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(4);
    expect(JSON.parse(none.stdout).bakes).toEqual([]);
  });

  it('shows the status of a bake, and exits 2 for a bake the stack does not have', async () => {
    // Prepare
    const { bakeId } = JSON.parse(
      (
        await cli(
          'start',
          'example-web',
          '--stage',
          'test',
          '--json',
          '--idempotency-key',
          'status-1',
          '--force',
        )
      ).stdout,
    );

    // Act
    const shown = await cli('status', bakeId, '--stage', 'test', '--json');
    const missing = await cli('status', 'example-web_not-started', '--stage', 'test');

    // Assess
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ bakeId, recipe: 'example-web', status: 'RUNNING' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no bake example-web_not-started in');
  });

  it('cancels a running bake, cleans up and publishes Bake Failed; a bake that is not running exits 2', async () => {
    // Prepare
    const { bakeId, executionArn } = JSON.parse(
      (
        await cli(
          'start',
          'example-web',
          '--stage',
          'test',
          '--json',
          '--idempotency-key',
          'cancel-1',
          '--force',
        )
      ).stdout,
    );

    // Act
    const cancelled = await cli('cancel', bakeId, '--stage', 'test', '--reason', 'wrong base', '--json');
    const again = await cli('cancel', bakeId, '--stage', 'test');

    // Assess
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      bakeId,
      status: 'ABORTED',
      cleanup: { terminatedInstances: [], deregisteredImages: [], deletedSnapshots: [], problems: [] },
      eventPublished: true,
    });
    expect((await execution(executionArn)).status).toBe('ABORTED');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`bake ${bakeId} already ended: ABORTED`);
  });

  it('uses AMI_BAKE_STATE_MACHINE_ARN instead of looking the stack up', async () => {
    // Prepare: a state machine that belongs to no stack.
    const { stateMachineArn = '' } = await sfn().send(
      new CreateStateMachineCommand({ name: 'ami-bake-elsewhere', definition, roleArn: role }),
    );

    // Act
    const started = spawnCli(['start', 'example-web', '--json', '--force'], {
      ...process.env,
      AMI_BAKE_STATE_MACHINE_ARN: stateMachineArn,
    });

    // Assess
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ status: 'started', stateMachineArn });
  });

  it('exits 3 with one line when the stack does not exist', async () => {
    // Act
    const { code, stdout, stderr } = await cli('list', '--stage', 'prod');

    // Assess
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([
      'Looking up stack ami-bake-prod…',
      'ami-bake list: stack ami-bake-prod not found in us-east-1: deploy it (npx serverless deploy --stage <stage> --region us-east-1) or pass --stage, --stack, --region or --state-machine-arn',
    ]);
  });

  it('exits 3 with one line when there are no AWS credentials', () => {
    // Prepare
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: '/nonexistent',
      AWS_ENDPOINT_URL: emulator.endpoint(),
      AWS_REGION: region,
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    };

    // Act
    const { code, stdout, stderr } = spawnCli(['list', '--stage', 'test', '--json'], env);

    // Assess
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'error', exitCode: 3 });
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ami-bake list: no usable AWS credentials .*; set AWS_PROFILE/);
  });

  it('exits 3 with one line when no region is configured', () => {
    // Prepare
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: '/nonexistent',
      AWS_ENDPOINT_URL: emulator.endpoint(),
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    };

    // Act
    const { code, stdout, stderr } = spawnCli(['list'], env);

    // Assess
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'Looking up stack ami-bake-dev…\nami-bake list: no AWS region: pass --region or set AWS_REGION\n',
    );
  });
});
