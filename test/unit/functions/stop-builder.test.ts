import {
  DescribeInstancesCommand,
  EC2Client,
  type InstanceStateName,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { stopBuilder } from '../../../functions/stop-builder/core.js';
import { BootstrapNoResultError, BuilderNotStoppedError } from '../../../lib/errors.js';
import { BUILD_REGION, now } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const deps = { ec2: new EC2Client({ region: BUILD_REGION }), now };
const builder = { instanceId: 'i-0builder00000001' };

function builderIs(state: InstanceStateName | undefined) {
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: state ? [{ Instances: [{ InstanceId: builder.instanceId, State: { Name: state } }] }] : [],
  });
}

beforeEach(() => ec2Mock.reset());

describe('stopBuilder', () => {
  it('returns at once when the builder is already stopped', async () => {
    // Prepare
    builderIs('stopped');

    // Act
    const result = await stopBuilder({ builder }, deps);

    // Assess
    expect(result).toEqual({ at: '2026-11-26T04:47:42.123Z' });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [{ Name: 'instance-id', Values: [builder.instanceId] }],
    });
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
  });

  it('trusts the wait: no DescribeInstances when WaitForBuilder saw the builder stopped', async () => {
    // Act
    const result = await stopBuilder({ builder, bootstrap: { instanceState: 'stopped' } }, deps);

    // Assess
    expect(result).toEqual({ at: '2026-11-26T04:47:42.123Z' });
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeInstancesCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
  });

  it('looks for itself when the wait output does not say stopped (an execution started before it did)', async () => {
    // Prepare
    builderIs('running');

    // Act
    const result = stopBuilder({ builder, bootstrap: {} }, deps);

    // Assess
    await expect(result).rejects.toBeInstanceOf(BuilderNotStoppedError);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(StopInstancesCommand, {
      InstanceIds: [builder.instanceId],
    });
  });

  it.each(['running', 'pending'] as const)(
    'asks EC2 to stop a %s builder, then throws BuilderNotStoppedError so the state retries',
    async (state) => {
      // Prepare
      builderIs(state);

      // Act
      const result = stopBuilder({ builder }, deps);

      // Assess
      await expect(result).rejects.toBeInstanceOf(BuilderNotStoppedError);
      expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(StopInstancesCommand, {
        InstanceIds: [builder.instanceId],
      });
    },
  );

  it('waits for a stopping builder without asking again', async () => {
    // Prepare
    builderIs('stopping');

    // Act
    const result = stopBuilder({ builder }, deps);

    // Assess
    await expect(result).rejects.toThrow(BuilderNotStoppedError);
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
  });

  it.each(['terminated', 'shutting-down', undefined] as const)(
    'fails with BootstrapNoResultError when the builder is %s',
    async (state) => {
      // Prepare
      builderIs(state);

      // Act
      const result = stopBuilder({ builder }, deps);

      // Assess
      await expect(result).rejects.toBeInstanceOf(BootstrapNoResultError);
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    },
  );
});
