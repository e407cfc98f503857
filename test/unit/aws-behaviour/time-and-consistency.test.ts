import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { Ec2Event } from '../../../local/aws-behaviour/index.js';
import {
  ec2Via,
  errorOf,
  eventually,
  fastProfile,
  imageOf,
  instanceState,
  launch,
  sleep,
  useLayer,
} from './helpers.js';

const { layer, moto } = useLayer();

/** The events delivered while the current test runs. */
function collectEvents(): Ec2Event[] {
  const events: Ec2Event[] = [];
  onTestFinished(layer().onEc2Event((e) => events.push(e)));
  return events;
}

beforeEach(() => {
  layer().setProfile(fastProfile());
  layer().clearFaults();
});

describe('time', () => {
  it('moves an instance pending → running → stopping → stopped, with running and stopped events in order', async () => {
    const events = collectEvents();
    const ec2 = ec2Via(layer().endpoint);
    const id = await launch(ec2);

    expect(await instanceState(ec2, id)).toBe('pending');
    await eventually(async () => expect(await instanceState(ec2, id)).toBe('running'));
    const { StoppingInstances = [] } = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    expect(StoppingInstances[0]?.CurrentState).toEqual({ Code: 64, Name: 'stopping' });
    expect(StoppingInstances[0]?.PreviousState).toEqual({ Code: 16, Name: 'running' });
    expect(await instanceState(ec2, id)).toBe('stopping');
    await eventually(async () => expect(await instanceState(ec2, id)).toBe('stopped'));
    await eventually(async () => expect(events).toHaveLength(2));

    expect(events.map((e) => [e['detail-type'], e.detail])).toEqual([
      ['EC2 Instance State-change Notification', { 'instance-id': id, state: 'running' }],
      ['EC2 Instance State-change Notification', { 'instance-id': id, state: 'stopped' }],
    ]);
    expect(events.every((e) => e.region === 'us-east-1' && e.source === 'aws.ec2')).toBe(true);
  });

  it('refuses to stop an instance that is still pending, as EC2 does', async () => {
    layer().setProfile(fastProfile({ durations: { ...fastProfile().durations, instanceLaunch: 600 } }));
    const ec2 = ec2Via(layer().endpoint);
    const id = await launch(ec2);

    expect(await errorOf(ec2.send(new StopInstancesCommand({ InstanceIds: [id] })))).toEqual({
      name: 'IncorrectInstanceState',
      status: 400,
    });
  });

  it('terminates through shutting-down and emits terminated only in the region of the change', async () => {
    const events = collectEvents();
    const ec2 = ec2Via(layer().endpoint, 'eu-west-1');
    const id = await launch(ec2);
    await eventually(async () => expect(await instanceState(ec2, id)).toBe('running'));

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));

    expect(await instanceState(ec2, id)).toBe('shutting-down');
    await eventually(async () =>
      expect(events.map((e) => e.detail.state)).toEqual(['running', 'terminated']),
    );
    expect(events.map((e) => e.region)).toEqual(['eu-west-1', 'eu-west-1']);
  });

  it('answers instance-state-name filters from the modelled state, not moto’s final one', async () => {
    layer().setProfile(fastProfile({ durations: { ...fastProfile().durations, instanceLaunch: 600 } }));
    const ec2 = ec2Via(layer().endpoint);
    const id = await launch(ec2);
    const ids = async (state: string) => {
      const { Reservations = [] } = await ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: [state] }] }),
      );
      return Reservations.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId);
    };

    expect(await ids('pending')).toContain(id);
    expect(await ids('running')).not.toContain(id);
  });

  it('keeps a new image and its snapshots pending until the image duration has passed, then announces it', async () => {
    const events = collectEvents();
    const ec2 = ec2Via(layer().endpoint);
    const instance = await launch(ec2);
    await eventually(async () => expect(await instanceState(ec2, instance)).toBe('running'));
    const imageId = await imageOf(ec2, instance, `pending-image-${Date.now()}`);
    const image = async () =>
      (await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images?.[0];
    const byState = async (state: string) =>
      (
        await ec2.send(
          new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'state', Values: [state] }] }),
        )
      ).Images?.map((i) => i.ImageId);

    expect((await image())?.State).toBe('pending');
    expect(await byState('pending')).toContain(imageId);
    expect(await byState('available')).not.toContain(imageId);
    const snapshotId = (await image())?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId ?? '';
    const snapshot = async () =>
      (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots?.[0]?.State;
    expect(await snapshot()).toBe('pending');

    await eventually(async () => expect((await image())?.State).toBe('available'));
    expect(await snapshot()).toBe('completed');
    await eventually(async () =>
      expect(events.filter((e) => e['detail-type'] === 'EC2 AMI State Change').map((e) => e.detail)).toEqual([
        { ImageId: imageId, State: 'available' },
      ]),
    );
  });

  it('with the instant profile, states are final at once and events follow on the next tick', async () => {
    layer().setProfile('instant');
    const events = collectEvents();
    const ec2 = ec2Via(layer().endpoint);
    const id = await launch(ec2);

    expect(await instanceState(ec2, id)).toBe('running');
    await eventually(async () => expect(events.map((e) => e.detail.state)).toEqual(['running']), 1000);
  });

  it('delivers some events twice when the profile says so', async () => {
    layer().setProfile(fastProfile({ events: { delay: [0, 1], duplicateProbability: 1 } }));
    const events = collectEvents();
    const id = await launch(ec2Via(layer().endpoint));

    await eventually(async () =>
      expect(events.filter((e) => e.detail['instance-id'] === id).map((e) => e.detail.state)).toEqual([
        'running',
        'running',
      ]),
    );
  });
});

describe('eventual consistency', () => {
  it('answers InvalidInstanceID.NotFound for a new instance inside the window, then finds it', async () => {
    layer().setProfile(fastProfile({ consistencyWindow: 40 }));
    const ec2 = ec2Via(layer().endpoint);
    const id = await launch(ec2, {
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'team', Value: 'platform' }] }],
    });

    expect(await errorOf(instanceState(ec2, id))).toEqual({
      name: 'InvalidInstanceID.NotFound',
      status: 400,
    });
    expect(
      await errorOf(ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'a', Value: 'b' }] }))),
    ).toMatchObject({ name: 'InvalidInstanceID.NotFound' });
    const filtered = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:team', Values: ['platform'] }] }),
    );
    expect(filtered.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).not.toContain(
      id,
    );
    // Tags given at creation are there at once, even while describes leave the instance out.
    const direct = await ec2Via(moto()).send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    expect(direct.Reservations?.[0]?.Instances?.[0]?.Tags).toContainEqual({ Key: 'team', Value: 'platform' });

    await sleep(500);
    expect(await instanceState(ec2, id)).toBeDefined();
  });

  it('answers InvalidAMIID.NotFound for a new image inside the window, then finds it', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const instance = await launch(ec2);
    layer().setProfile(fastProfile({ consistencyWindow: 40 }));
    const imageId = await imageOf(ec2, instance, `window-image-${Date.now()}`);

    expect(await errorOf(ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] })))).toEqual({
      name: 'InvalidAMIID.NotFound',
      status: 400,
    });

    await sleep(500);
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    expect(Images.map((i) => i.ImageId)).toEqual([imageId]);
  });
});
