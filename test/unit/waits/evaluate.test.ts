import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  GetConsoleOutputCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { LOG_TAIL_TAG_KEY, RESULT_TAG_KEY } from '../../../lib/bootstrap/wrapper.js';
import { evaluateImages, evaluateInstances } from '../../../lib/waits/evaluate.js';

const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });
const NOW = new Date('2026-11-26T04:47:42.123Z');
const ID = 'i-0builder00000001';

function instance(state: string, tags: Record<string, string> = {}): Instance {
  return {
    InstanceId: ID,
    State: { Name: state as never },
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

function described(...instances: Instance[]) {
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: instances }] });
}

beforeEach(() => ec2Mock.reset());

describe('evaluateInstances', () => {
  it('reports success for a stopped builder tagged with a success result, saying it saw it stopped', async () => {
    // Prepare
    described(instance('stopped', { [RESULT_TAG_KEY]: 'success;exit=0' }));

    // Act
    const verdicts = await evaluateInstances(ec2, [ID], NOW);

    // Assess: StopBuilder reads instanceState and skips its own DescribeInstances.
    expect(verdicts.get(ID)).toEqual({
      status: 'success',
      output: { outcome: 'success', exitCode: 0, instanceState: 'stopped', at: '2026-11-26T04:47:42.123Z' },
    });
  });

  it('reports BootstrapFailedError with the exit code and the tagged log tail for a failure result', async () => {
    // Prepare
    described(
      instance('stopped', {
        [RESULT_TAG_KEY]: 'failure;exit=3',
        [LOG_TAIL_TAG_KEY]: 'dnf: no package nginx2',
      }),
    );

    // Act
    const verdict = (await evaluateInstances(ec2, [ID], NOW)).get(ID);

    // Assess
    expect(verdict).toMatchObject({ status: 'failure', error: 'BootstrapFailedError' });
    expect(verdict).toHaveProperty('cause', expect.stringContaining('code 3'));
    expect(verdict).toHaveProperty('cause', expect.stringContaining('dnf: no package nginx2'));
    expect(ec2Mock).not.toHaveReceivedCommand(GetConsoleOutputCommand);
  });

  it('reads the log tail from the serial console when the builder could not tag it', async () => {
    // Prepare
    described(instance('stopped', { [RESULT_TAG_KEY]: 'failure;exit=2' }));
    const consoleOutput =
      'boot\nAMI-BAKE-LOG make: *** [all] Error 2\nAMI-BAKE-RESULT {"outcome":"failure","exitCode":2}\n';
    ec2Mock.on(GetConsoleOutputCommand).resolves({ Output: Buffer.from(consoleOutput).toString('base64') });

    // Act
    const verdict = (await evaluateInstances(ec2, [ID], NOW)).get(ID);

    // Assess
    expect(verdict).toHaveProperty('cause', expect.stringContaining('make: *** [all] Error 2'));
    expect(ec2Mock).toHaveReceivedCommandWith(GetConsoleOutputCommand, { InstanceId: ID, Latest: true });
  });

  it.each([
    ['success', '{"outcome":"success","exitCode":0}', 'success'],
    ['failure', '{"outcome":"failure","exitCode":4}', 'failure'],
  ])(
    'takes a %s result from the serial console when the builder could not reach EC2 to tag itself',
    async (_, line, status) => {
      // Prepare
      described(instance('stopped'));
      const consoleOutput = `boot\nAMI-BAKE-LOG curl: (28) Connection timed out\nAMI-BAKE-RESULT ${line}\n`;
      ec2Mock.on(GetConsoleOutputCommand).resolves({ Output: Buffer.from(consoleOutput).toString('base64') });

      // Act
      const verdict = (await evaluateInstances(ec2, [ID], NOW)).get(ID);

      // Assess
      expect(verdict).toHaveProperty('status', status);
      if (status === 'failure') expect(verdict).toHaveProperty('cause', expect.stringContaining('code 4'));
    },
  );

  it('still reports the exit code when the console cannot be read', async () => {
    // Prepare
    described(instance('stopped', { [RESULT_TAG_KEY]: 'failure;exit=7' }));
    ec2Mock.on(GetConsoleOutputCommand).rejects(new Error('UnauthorizedOperation'));

    // Act
    const verdict = (await evaluateInstances(ec2, [ID], NOW)).get(ID);

    // Assess
    expect(verdict).toMatchObject({
      status: 'failure',
      error: 'BootstrapFailedError',
      cause: expect.stringContaining('code 7'),
    });
  });

  it.each([
    ['without a result tag', {}],
    ['with a malformed result tag', { [RESULT_TAG_KEY]: 'done' }],
  ])('reports BootstrapNoResultError for a builder that stopped %s', async (_, tags) => {
    // Prepare
    described(instance('stopped', tags));

    // Act
    const verdict = (await evaluateInstances(ec2, [ID], NOW)).get(ID);

    // Assess
    expect(verdict).toMatchObject({ status: 'failure', error: 'BootstrapNoResultError' });
  });

  it.each(['terminated', 'shutting-down'])(
    'reports BootstrapNoResultError for a %s builder, even one that tagged success',
    async (state) => {
      // Prepare
      described(instance(state, { [RESULT_TAG_KEY]: 'success;exit=0' }));

      // Act
      const verdict = (await evaluateInstances(ec2, [ID], NOW)).get(ID);

      // Assess
      expect(verdict).toMatchObject({
        status: 'failure',
        error: 'BootstrapNoResultError',
        cause: expect.stringContaining('terminated'),
      });
    },
  );

  it.each(['pending', 'running', 'stopping'])('keeps waiting while the builder is %s', async (state) => {
    // Prepare
    described(instance(state, { [RESULT_TAG_KEY]: 'success;exit=0' }));

    // Act
    const verdict = (await evaluateInstances(ec2, [ID], NOW)).get(ID);

    // Assess
    expect(verdict).toEqual({ status: 'pending' });
  });

  it('gives no verdict for an id EC2 does not list, so one vanished builder does not fail the batch', async () => {
    // Prepare
    described(instance('running'));

    // Act
    const verdicts = await evaluateInstances(ec2, [ID, 'i-0vanished0000001'], NOW);

    // Assess
    expect([...verdicts.keys()]).toEqual([ID]);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [{ Name: 'instance-id', Values: [ID, 'i-0vanished0000001'] }],
    });
  });

  it('asks EC2 about at most 200 instances per call', async () => {
    // Prepare
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const ids = Array.from({ length: 450 }, (_, i) => `i-${String(i).padStart(17, '0')}`);

    // Act
    await evaluateInstances(ec2, ids, NOW);

    // Assess
    const sizes = ec2Mock
      .commandCalls(DescribeInstancesCommand)
      .map((c) => c.args[0].input.Filters?.[0]?.Values?.length);
    expect(sizes).toEqual([200, 200, 50]);
  });
});

describe('evaluateImages', () => {
  it('reports an available image with its snapshots, a failed one as ImageFailedError with its reason, and a pending one as pending', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).resolves({
      Images: [
        {
          ImageId: 'ami-0ok',
          State: 'available',
          BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-1' } }, { VirtualName: 'ephemeral0' }],
        },
        {
          ImageId: 'ami-0bad',
          State: 'failed',
          StateReason: { Code: 'Client.Error', Message: 'snapshot copy failed' },
        },
        { ImageId: 'ami-0wait', State: 'pending' },
      ],
    });

    // Act
    const verdicts = await evaluateImages(ec2, 'eu-west-1', ['ami-0ok', 'ami-0bad', 'ami-0wait'], NOW);

    // Assess
    expect(verdicts.get('ami-0ok')).toEqual({
      status: 'success',
      output: {
        region: 'eu-west-1',
        imageId: 'ami-0ok',
        snapshotIds: ['snap-1'],
        at: '2026-11-26T04:47:42.123Z',
      },
    });
    expect(verdicts.get('ami-0bad')).toEqual({
      status: 'failure',
      error: 'ImageFailedError',
      cause: 'image ami-0bad in eu-west-1 is failed: snapshot copy failed',
    });
    expect(verdicts.get('ami-0wait')).toEqual({ status: 'pending' });
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
  });

  it('treats a deregistered image as failed', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: 'ami-0gone', State: 'deregistered' }] });

    // Act
    const verdicts = await evaluateImages(ec2, 'us-east-1', ['ami-0gone'], NOW);

    // Assess
    expect(verdicts.get('ami-0gone')).toMatchObject({ status: 'failure', error: 'ImageFailedError' });
  });
});
