import { DescribeInstancesCommand, DescribeSpotInstanceRequestsCommand } from '@aws-sdk/client-ec2';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_DETAILS } from '../../lib/events.js';
import { TAG } from '../../lib/tags.js';
import type { BehaviourLayer } from '../../local/aws-behaviour/index.js';
import { type LocalBakeOptions, localLayer, runLocalBake } from '../../local/runner.js';
import { type EventTap, provisionLocalStack, tapEvents } from '../../local/stack.js';
import { added, ec2, type Inventory, inventories, recipe, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const byBake = (bakeId: string) => [{ Name: `tag:${TAG.bakeId}`, Values: [bakeId] }];

describe('Spot builders with on-demand fallback', () => {
  const { endpoint } = useEmulator();
  let layer: BehaviourLayer;
  let tap: EventTap;

  beforeAll(async () => {
    layer = await localLayer(endpoint());
    const stack = await provisionLocalStack('us-east-1');
    tap = await tapEvents('us-east-1', stack.busName, 'spot-test', { source: ['ami-bake'] });
  });

  afterEach(() => layer.clearFaults());

  async function bake(spot: Record<string, unknown>, options: Partial<LocalBakeOptions> = {}) {
    const before = await inventories(regions);
    const result = await runLocalBake({
      recipe: await recipe({ builder: { instanceType: 't3.micro', tags: { team: 'platform' }, spot } }),
      region: 'us-east-1',
      ...options,
    });
    const after = await inventories(regions);
    const leaked = Object.fromEntries(
      regions.map((r) => [r, added(before[r] as Inventory, after[r] as Inventory)]),
    );
    const events = (await tap.read()).filter((e) => e.detail.bakeId === result.bakeId);
    const builders: { type?: string; state?: string; lifecycle?: string }[] = [];
    const requests: { state?: string; type?: string; interruption?: string; region: string }[] = [];
    for (const region of regions) {
      const { Reservations = [] } = await ec2(region).send(
        new DescribeInstancesCommand({ Filters: byBake(result.bakeId) }),
      );
      for (const i of Reservations.flatMap((r) => r.Instances ?? [])) {
        builders.push({ type: i.InstanceType, state: i.State?.Name, lifecycle: i.InstanceLifecycle });
      }
      const { SpotInstanceRequests = [] } = await ec2(region).send(
        new DescribeSpotInstanceRequestsCommand({ Filters: byBake(result.bakeId) }),
      );
      for (const r of SpotInstanceRequests) {
        requests.push({ state: r.State, type: r.Type, interruption: r.InstanceInterruptionBehavior, region });
      }
    }
    return { result, leaked, events, builders, requests };
  }

  function builderOf(events: { 'detail-type': string; detail: unknown }[]) {
    const succeeded = events.filter((e) => e['detail-type'] === 'Bake Succeeded');
    expect(succeeded).toHaveLength(1);
    return EVENT_DETAILS['Bake Succeeded'].parse(succeeded[0]?.detail).builder;
  }

  it('bakes on a persistent Spot request that stops, reports market spot, and cancels the request before terminating', async () => {
    // Act
    const { result, leaked, events, builders, requests } = await bake({});

    // Assess
    expect(result.status, JSON.stringify(result.failure)).toBe('succeeded');
    expect(Object.keys(result.images).sort()).toEqual([...regions].sort());
    expect(builderOf(events)).toEqual({ instanceType: 't3.micro', market: 'spot' });
    // One Spot builder, terminated: a request left open would have launched another.
    expect(builders).toEqual([{ type: 't3.micro', state: 'terminated', lifecycle: 'spot' }]);
    expect(requests).toEqual([
      { state: 'cancelled', type: 'persistent', interruption: 'stop', region: 'us-east-1' },
    ]);
    for (const region of regions) {
      expect(leaked[region]?.liveInstances, region).toEqual([]);
      expect(leaked[region]?.volumes, region).toEqual([]);
    }
  });

  it('falls back to on-demand when EC2 refuses Spot, and says why', async () => {
    // Prepare: no Spot capacity for any type.
    const message = 'There is no Spot capacity available that matches your request.';
    layer.addFault({
      action: 'RunInstances',
      params: { 'InstanceMarketOptions.MarketType': 'spot' },
      effect: 'error-before',
      error: { code: 'InsufficientInstanceCapacity', status: 500, message },
    });

    // Act
    const { result, leaked, events, builders, requests } = await bake({ maxPrice: '0.05' });

    // Assess
    expect(result.status, JSON.stringify(result.failure)).toBe('succeeded');
    expect(builderOf(events)).toEqual({
      instanceType: 't3.micro',
      market: 'on-demand',
      attempts: [
        { instanceType: 't3.micro', market: 'spot', error: 'InsufficientInstanceCapacity', message },
      ],
    });
    expect(builders).toEqual([{ type: 't3.micro', state: 'terminated', lifecycle: undefined }]);
    expect(requests).toEqual([]);
    for (const region of regions) expect(leaked[region]?.liveInstances, region).toEqual([]);
  });

  it('a failed Spot bake leaves no instance and no open Spot request in any region', async () => {
    // Act: the bootstrap exits 1 on the Spot builder.
    const { result, leaked, builders, requests } = await bake({}, { builder: 'fail' });

    // Assess
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({ stage: 'WaitForBuilder', error: 'BootstrapFailedError' });
    expect(builders.map((b) => b.state)).toEqual(['terminated']);
    expect(requests.map((r) => r.state)).toEqual(['cancelled']);
    for (const region of regions) {
      expect(leaked[region], region).toEqual({ liveInstances: [], images: [], snapshots: [], volumes: [] });
    }
  });

  it('a cancelled Spot bake leaves no instance and no open Spot request', async () => {
    // Prepare: the bootstrap never ends; the bake is cancelled while it waits for the builder.
    const controller = new AbortController();

    // Act
    const { result, leaked, builders, requests } = await bake(
      {},
      {
        builder: 'hang',
        signal: controller.signal,
        onProgress: (p) => {
          if (p.kind === 'state' && p.state === 'WaitForBuilder' && p.phase === 'start') {
            setTimeout(() => controller.abort(), 100);
          }
        },
      },
    );

    // Assess
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({ error: 'BakeCancelled' });
    expect(builders.map((b) => b.state)).toEqual(['terminated']);
    expect(requests.map((r) => r.state)).toEqual(['cancelled']);
    for (const region of regions) expect(leaked[region]?.liveInstances, region).toEqual([]);
  });
});
