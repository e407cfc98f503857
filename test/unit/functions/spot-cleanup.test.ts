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
import { beforeEach, describe, expect, it } from 'vitest';
import { terminateBuilder } from '../../../functions/terminate-builder/core.js';
import { cleanup } from '../../../lib/cleanup/core.js';
import { BAKE_ID, BUILD_REGION, now } from './fixtures.js';

/**
 * A Spot builder comes from a persistent request, and EC2 launches a new instance for a persistent
 * request whose instance is terminated: every path that terminates a builder of a Spot bake
 * cancels the bake's requests first, found by its tag. Bakes without Spot make no such call.
 */
const ec2Mock = mockClient(EC2Client);
const client = new EC2Client({ region: BUILD_REGION });
const spotRecipe = { builder: { spot: { fallbackToOnDemand: true } } };

/** The EC2 commands sent, in order, by name. */
const sent = () => ec2Mock.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));

beforeEach(() => {
  ec2Mock.reset();
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [{ InstanceId: 'i-0builder00000001' }] }],
  });
  ec2Mock.on(DescribeSpotInstanceRequestsCommand).resolves({
    SpotInstanceRequests: [{ SpotInstanceRequestId: 'sir-0000000a', State: 'active' }],
  });
  ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] });
  ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
});

describe('terminateBuilder of a Spot bake', () => {
  it("cancels the bake's Spot requests, found by tag, before terminating its builder", async () => {
    // Act
    const result = await terminateBuilder(
      { context: { bakeId: BAKE_ID }, recipe: spotRecipe },
      { ec2: client, now },
    );

    // Assess
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSpotInstanceRequestsCommand, {
      Filters: [
        { Name: 'tag:ami-bake:bake-id', Values: [BAKE_ID] },
        { Name: 'state', Values: ['open', 'active', 'disabled'] },
      ],
    });
    expect(ec2Mock).toHaveReceivedCommandWith(CancelSpotInstanceRequestsCommand, {
      SpotInstanceRequestIds: ['sir-0000000a'],
    });
    expect(sent()).toEqual([
      'DescribeSpotInstanceRequests',
      'CancelSpotInstanceRequests',
      'DescribeInstances',
      'TerminateInstances',
    ]);
    expect(result).toMatchObject({ instanceIds: ['i-0builder00000001'], spotRequestIds: ['sir-0000000a'] });
  });

  it('cancels nothing when no request is left (a second run), and still terminates', async () => {
    // Prepare
    ec2Mock.on(DescribeSpotInstanceRequestsCommand).resolves({ SpotInstanceRequests: [] });

    // Act
    await terminateBuilder({ context: { bakeId: BAKE_ID }, recipe: spotRecipe }, { ec2: client, now });

    // Assess
    expect(ec2Mock).not.toHaveReceivedCommand(CancelSpotInstanceRequestsCommand);
    expect(ec2Mock).toHaveReceivedCommand(TerminateInstancesCommand);
  });

  it('makes no Spot call for a recipe without builder.spot', async () => {
    // Act
    await terminateBuilder({ context: { bakeId: BAKE_ID }, recipe: { builder: {} } }, { ec2: client, now });

    // Assess
    expect(sent()).toEqual(['DescribeInstances', 'TerminateInstances']);
  });
});

describe('cleanup of a Spot bake', () => {
  it("cancels the bake's Spot requests by tag before terminating its instances", async () => {
    // Act
    const report = await cleanup(
      { bakeId: BAKE_ID, regions: [BUILD_REGION], spot: true },
      { ec2: () => client },
    );

    // Assess
    expect(report.terminatedInstances).toEqual([{ region: BUILD_REGION, instanceId: 'i-0builder00000001' }]);
    const order = sent();
    expect(order.indexOf('CancelSpotInstanceRequests')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('CancelSpotInstanceRequests')).toBeLessThan(order.indexOf('TerminateInstances'));
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSpotInstanceRequestsCommand, {
      Filters: [
        { Name: 'tag:ami-bake:bake-id', Values: [BAKE_ID] },
        { Name: 'state', Values: ['open', 'active', 'disabled'] },
      ],
    });
  });

  it('reports a refused cancel as a problem (CleanupIncompleteError), so the state machine retries', async () => {
    // Prepare
    ec2Mock
      .on(CancelSpotInstanceRequestsCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));

    // Act / Assess
    await expect(
      cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION], spot: true }, { ec2: () => client }),
    ).rejects.toMatchObject({ name: 'CleanupIncompleteError' });
    // The builder is not terminated while its request could launch another.
    expect(ec2Mock).not.toHaveReceivedCommand(TerminateInstancesCommand);
  });

  it('makes no Spot call for a bake whose recipe did not ask for Spot', async () => {
    // Act
    await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION] }, { ec2: () => client });

    // Assess
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeSpotInstanceRequestsCommand);
    expect(ec2Mock).toHaveReceivedCommand(TerminateInstancesCommand);
  });
});
