import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_DETAILS } from '../../lib/events.js';
import { TAG } from '../../lib/tags.js';
import type { BehaviourLayer } from '../../local/aws-behaviour/index.js';
import { localLayer, runLocalBake } from '../../local/runner.js';
import { type EventTap, provisionLocalStack, tapEvents } from '../../local/stack.js';
import { added, ec2, type Inventory, inventories, recipe, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

/** Sized by requirements, narrowed to three types so the cheapest-first order is known: m7i, m6i, m5. */
const sized = {
  builder: {
    requirements: {
      vCpus: { min: 2, max: 2 },
      memoryGiB: { min: 8, max: 8 },
      allowedInstanceTypes: ['m7i.large', 'm6i.large', 'm5.large'],
      // EC2 lists m6i and m5 as previous generation (moto's data too).
      instanceGenerations: ['current', 'previous'],
    },
    tags: { team: 'platform' },
  },
};

describe('sizing the builder by requirements, with capacity fallback', () => {
  const { endpoint } = useEmulator();
  let layer: BehaviourLayer;
  let tap: EventTap;

  beforeAll(async () => {
    layer = await localLayer(endpoint());
    const stack = await provisionLocalStack('us-east-1');
    tap = await tapEvents('us-east-1', stack.busName, 'capacity-test', { source: ['ami-bake'] });
  });

  afterEach(() => layer.clearFaults());

  async function bake() {
    const before = await inventories(regions);
    const result = await runLocalBake({ recipe: await recipe(sized), region: 'us-east-1' });
    const after = await inventories(regions);
    const leaked = Object.fromEntries(
      regions.map((r) => [r, added(before[r] as Inventory, after[r] as Inventory)]),
    );
    const events = (await tap.read()).filter((e) => e.detail.bakeId === result.bakeId);
    const { Reservations = [] } = await ec2('us-east-1').send(
      new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG.bakeId}`, Values: [result.bakeId] }] }),
    );
    const builders = Reservations.flatMap((r) => r.Instances ?? []);
    return { result, leaked, events, builders };
  }

  function succeededDetail(events: { 'detail-type': string; detail: unknown }[]) {
    const succeeded = events.filter((e) => e['detail-type'] === 'Bake Succeeded');
    expect(succeeded).toHaveLength(1);
    return EVENT_DETAILS['Bake Succeeded'].parse(succeeded[0]?.detail);
  }

  it('launches the cheapest type that fits and reports it', async () => {
    // Act
    const { result, events, builders } = await bake();

    // Assess
    expect(result.failure).toBeUndefined();
    expect(result.status).toBe('succeeded');
    expect(builders.map((b) => [b.InstanceType, b.State?.Name])).toEqual([['m7i.large', 'terminated']]);
    expect(succeededDetail(events).builder).toEqual({ instanceType: 'm7i.large', market: 'on-demand' });
  });

  it('falls back to the next candidate when EC2 has no capacity for the first, and says why', async () => {
    // Prepare
    layer.addFault({
      action: 'RunInstances',
      params: { InstanceType: 'm7i.large' },
      effect: 'error-before',
      error: {
        code: 'InsufficientInstanceCapacity',
        status: 500,
        message:
          'We currently do not have sufficient m7i.large capacity in the Availability Zone you requested.',
      },
    });

    // Act
    const { result, leaked, events, builders } = await bake();

    // Assess
    expect(result.failure).toBeUndefined();
    expect(result.status).toBe('succeeded');
    expect(Object.keys(result.images).sort()).toEqual([...regions].sort());
    // One builder, of the second type, and it is gone; nothing else was left anywhere.
    expect(builders.map((b) => [b.InstanceType, b.State?.Name])).toEqual([['m6i.large', 'terminated']]);
    for (const region of regions) {
      expect(leaked[region]?.liveInstances, region).toEqual([]);
      expect(leaked[region]?.volumes, region).toEqual([]);
    }
    expect(succeededDetail(events).builder).toEqual({
      instanceType: 'm6i.large',
      market: 'on-demand',
      attempts: [
        {
          instanceType: 'm7i.large',
          market: 'on-demand',
          error: 'InsufficientInstanceCapacity',
          message:
            'We currently do not have sufficient m7i.large capacity in the Availability Zone you requested.',
        },
      ],
    });
  });
});
