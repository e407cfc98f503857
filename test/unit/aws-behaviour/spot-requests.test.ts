import {
  CancelSpotInstanceRequestsCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  type EC2Client,
  type RunInstancesCommandInput,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { ec2Via, errorOf, launch, useLayer } from './helpers.js';

const { layer } = useLayer();
let ec2: EC2Client;

beforeAll(() => {
  ec2 = ec2Via(layer().endpoint);
});

let n = 0;
/** A Spot launch tagged with a fresh bake id; returns the instance and that id. */
async function spotLaunch(type: 'persistent' | 'one-time', interruption: 'stop' | 'terminate') {
  const bakeId = `spot-test-${++n}`;
  const tags = [{ Key: 'ami-bake:bake-id', Value: bakeId }];
  const input: Partial<RunInstancesCommandInput> = {
    InstanceMarketOptions: {
      MarketType: 'spot',
      SpotOptions: { SpotInstanceType: type, InstanceInterruptionBehavior: interruption },
    },
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'spot-instances-request', Tags: tags },
    ],
  };
  return { instanceId: await launch(ec2, input), bakeId };
}

async function requestsOf(bakeId: string) {
  const { SpotInstanceRequests = [] } = await ec2.send(
    new DescribeSpotInstanceRequestsCommand({
      Filters: [{ Name: 'tag:ami-bake:bake-id', Values: [bakeId] }],
    }),
  );
  return SpotInstanceRequests;
}

async function liveOf(bakeId: string) {
  const { Reservations = [] } = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'tag:ami-bake:bake-id', Values: [bakeId] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    }),
  );
  return Reservations.flatMap((r) => r.Instances ?? []);
}

describe('Spot requests (moto 5.2.5 makes none for RunInstances on Spot; the layer does as EC2)', () => {
  it('creates a request tagged at launch, active with its instance, shown by a tag filter', async () => {
    // Act
    const { instanceId, bakeId } = await spotLaunch('persistent', 'stop');

    // Assess
    const [request, ...others] = await requestsOf(bakeId);
    expect(others).toEqual([]);
    expect(request).toMatchObject({
      State: 'active',
      Type: 'persistent',
      InstanceInterruptionBehavior: 'stop',
      InstanceId: instanceId,
      Tags: [{ Key: 'ami-bake:bake-id', Value: bakeId }],
    });
    const [instance] = await liveOf(bakeId);
    expect(instance).toMatchObject({
      InstanceLifecycle: 'spot',
      SpotInstanceRequestId: request?.SpotInstanceRequestId,
    });
  });

  it('refuses to stop the instance of a one-time request, and stops that of a persistent one', async () => {
    // Prepare
    const oneTime = await spotLaunch('one-time', 'terminate');
    const persistent = await spotLaunch('persistent', 'stop');

    // Act
    const refused = await errorOf(ec2.send(new StopInstancesCommand({ InstanceIds: [oneTime.instanceId] })));
    const stopped = await ec2.send(new StopInstancesCommand({ InstanceIds: [persistent.instanceId] }));

    // Assess
    expect(refused).toEqual({ name: 'UnsupportedOperation', status: 400 });
    expect(stopped.StoppingInstances?.[0]?.InstanceId).toBe(persistent.instanceId);
    expect((await requestsOf(persistent.bakeId)).map((r) => r.State)).toEqual(['disabled']);
  });

  it('launches a new instance when the stopped instance of a persistent request is terminated without cancelling it', async () => {
    // Prepare: stopped, as a builder is before it is imaged.
    const { instanceId, bakeId } = await spotLaunch('persistent', 'stop');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));

    // Act
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));

    // Assess
    const live = await liveOf(bakeId);
    expect(live).toHaveLength(1);
    expect(live[0]?.InstanceId).not.toBe(instanceId);
    const [request] = await requestsOf(bakeId);
    expect(request).toMatchObject({ State: 'active', InstanceId: live[0]?.InstanceId });
  });

  it('launches nothing more once the request is cancelled first; cancelling leaves the instance running', async () => {
    // Prepare
    const { instanceId, bakeId } = await spotLaunch('persistent', 'stop');
    const [request] = await requestsOf(bakeId);

    // Act
    await ec2.send(
      new CancelSpotInstanceRequestsCommand({
        SpotInstanceRequestIds: [request?.SpotInstanceRequestId ?? ''],
      }),
    );
    const runningAfterCancel = (await liveOf(bakeId)).map((i) => i.InstanceId);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));

    // Assess
    expect(runningAfterCancel).toEqual([instanceId]);
    expect(await liveOf(bakeId)).toEqual([]);
    expect((await requestsOf(bakeId)).map((r) => r.State)).toEqual(['cancelled']);
  });

  it('closes a one-time request with its instance', async () => {
    // Prepare
    const { instanceId, bakeId } = await spotLaunch('one-time', 'terminate');

    // Act
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));

    // Assess
    expect(await liveOf(bakeId)).toEqual([]);
    expect((await requestsOf(bakeId)).map((r) => r.State)).toEqual(['closed']);
  });
});
