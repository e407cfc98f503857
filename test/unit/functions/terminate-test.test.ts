import { CreateTagsCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { terminateTest } from '../../../functions/terminate-test/core.js';
import { BUILD_REGION, now } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const deps = { ec2: new EC2Client({ region: BUILD_REGION }), now };
const input = {
  imageReady: { imageId: 'ami-0new0000000000001', snapshotIds: ['snap-0new000000000001'] },
  instance: { instanceId: 'i-0test000000000001', instanceType: 'm5.large', at: '2026-11-26T04:46:00.000Z' },
  outcome: { exitCode: 0, logTail: 'nginx is active', at: '2026-11-26T04:46:42.350Z' },
};

beforeEach(() => {
  ec2Mock.reset();
  ec2Mock.on(TerminateInstancesCommand).resolves({});
  ec2Mock.on(CreateTagsCommand).resolves({});
});

describe('terminateTest', () => {
  it('terminates the passed test instance', async () => {
    // Act
    await terminateTest(input, deps);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandWith(TerminateInstancesCommand, {
      InstanceIds: ['i-0test000000000001'],
    });
  });

  it('marks the image and its snapshots as tested, with that one tag only', async () => {
    // Act
    await terminateTest(input, deps);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: ['ami-0new0000000000001', 'snap-0new000000000001'],
      Tags: [{ Key: 'ami-bake:tested', Value: 'passed' }],
    });
  });

  it('records the type, instance, exit code, log tail and the seconds from launch to the script result', async () => {
    // Act
    const record = await terminateTest(input, deps);

    // Assess
    expect(record).toEqual({
      instanceType: 'm5.large',
      instanceId: 'i-0test000000000001',
      outcome: 'passed',
      exitCode: 0,
      logTail: 'nginx is active',
      secondsToDone: 42.4,
      at: '2026-11-26T04:47:42.123Z',
    });
  });

  it('fails (so the bake cleans up) when the image cannot be marked', async () => {
    // Prepare
    ec2Mock
      .on(CreateTagsCommand)
      .rejects(Object.assign(new Error('not allowed'), { name: 'UnauthorizedOperation' }));

    // Act
    const error = await terminateTest(input, deps).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: 'UnauthorizedOperation' });
  });
});
