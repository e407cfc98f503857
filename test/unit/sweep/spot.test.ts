import {
  CancelSpotInstanceRequestsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { sweepLeftovers } from '../../../functions/sweep-leftovers/core.js';
import { logger } from '../../../lib/logger.js';
import { bakeTag, hoursAgo, NOW } from './fake-ec2.js';

/**
 * A Spot builder's persistent request launches a new instance when its instance is terminated,
 * unless cancelled first: the sweeper cancels the bake's requests (by tag) before terminating a
 * Spot builder it found, and makes no Spot call for on-demand ones.
 */
const ec2Mock = mockClient(EC2Client);
const client = new EC2Client({ region: 'us-east-1' });
const BAKE = 'bake-spot-0001';

const sent = () => ec2Mock.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));

function builder(lifecycle?: 'spot') {
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0spot',
            LaunchTime: hoursAgo(30),
            Tags: bakeTag(BAKE),
            ...(lifecycle ? { InstanceLifecycle: lifecycle } : {}),
          },
        ],
      },
    ],
  });
}

function sweep(status: string | undefined) {
  return sweepLeftovers(
    { regions: ['us-east-1'], graceHours: 24, unknownBakes: 'builders', dryRun: false },
    {
      ec2: () => client,
      describeExecution: async () => (status ? { status } : undefined),
      now: () => NOW,
    },
  );
}

beforeEach(() => {
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  ec2Mock.reset();
  ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] });
  ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  ec2Mock.on(DescribeSpotInstanceRequestsCommand).resolves({
    SpotInstanceRequests: [{ SpotInstanceRequestId: 'sir-0000000b', State: 'active' }],
  });
});

describe('sweepLeftovers and Spot builders', () => {
  it.each([
    ['a failed bake (cleanup core)', 'FAILED'],
    ['a bake without an execution (builders only)', undefined],
  ])('cancels the Spot requests of %s by tag before terminating its Spot builder', async (_, status) => {
    // Prepare
    builder('spot');

    // Act
    await sweep(status);

    // Assess
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSpotInstanceRequestsCommand, {
      Filters: expect.arrayContaining([{ Name: 'tag:ami-bake:bake-id', Values: [BAKE] }]),
    });
    const order = sent();
    expect(order.indexOf('CancelSpotInstanceRequests')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('CancelSpotInstanceRequests')).toBeLessThan(order.indexOf('TerminateInstances'));
  });

  it('makes no Spot call for an on-demand builder', async () => {
    // Prepare
    builder();

    // Act
    await sweep('FAILED');

    // Assess
    expect(ec2Mock).toHaveReceivedCommand(TerminateInstancesCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSpotInstanceRequestsCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(CancelSpotInstanceRequestsCommand);
  });
});
