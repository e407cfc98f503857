import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { terminateBuilder } from '../../../functions/terminate-builder/core.js';
import { BAKE_ID, BUILD_REGION, now } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const deps = { ec2: new EC2Client({ region: BUILD_REGION }), now };

beforeEach(() => ec2Mock.reset());

describe('terminateBuilder', () => {
  it("finds the bake's live builders by the bake-id tag and terminates them all", async () => {
    // Prepare: a retried launch could have left a twin.
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        { Instances: [{ InstanceId: 'i-0builder00000001' }] },
        { Instances: [{ InstanceId: 'i-0twin0000000002' }] },
      ],
    });

    // Act
    const result = await terminateBuilder({ context: { bakeId: BAKE_ID } }, deps);

    // Assess
    expect(result).toEqual({
      instanceIds: ['i-0builder00000001', 'i-0twin0000000002'],
      at: '2026-11-26T04:47:42.123Z',
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'tag:ami-bake:bake-id', Values: [BAKE_ID] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    });
    expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(TerminateInstancesCommand, {
      InstanceIds: ['i-0builder00000001', 'i-0twin0000000002'],
    });
  });

  it('does nothing when no builder is left (a second run)', async () => {
    // Prepare
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    // Act
    const result = await terminateBuilder({ context: { bakeId: BAKE_ID } }, deps);

    // Assess
    expect(result.instanceIds).toEqual([]);
    expect(ec2Mock).not.toHaveReceivedCommand(TerminateInstancesCommand);
  });
});
