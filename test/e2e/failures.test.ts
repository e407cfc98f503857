import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_DETAILS } from '../../lib/events.js';
import { TAG } from '../../lib/tags.js';
import { type LocalBakeOptions, type LocalBakeResult, runLocalBake } from '../../local/runner.js';
import { type EventTap, provisionLocalStack, tapEvents } from '../../local/stack.js';
import { added, ec2, type Inventory, inventories, recipe, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

describe('failed bakes clean up after themselves', () => {
  useEmulator();
  let tap: EventTap;

  beforeAll(async () => {
    const stack = await provisionLocalStack('us-east-1');
    tap = await tapEvents('us-east-1', stack.busName, 'failures-test', { source: ['ami-bake'] });
  });

  /** Runs a bake and returns what it left behind in every region, and the events it published. */
  async function failingBake(
    options: Partial<LocalBakeOptions>,
    recipeOverrides: Record<string, unknown> = {},
  ) {
    const before = await inventories(regions);
    const result = await runLocalBake({
      recipe: await recipe(recipeOverrides),
      region: 'us-east-1',
      ...options,
    });
    const after = await inventories(regions);
    const leaked = Object.fromEntries(
      regions.map((r) => [r, added(before[r] as Inventory, after[r] as Inventory)]),
    );
    const events = (await tap.read()).filter((e) => e.detail.bakeId === result.bakeId);
    return { result, leaked, events };
  }

  function expectNothingLeft(leaked: Record<string, ReturnType<typeof added>>) {
    for (const region of regions) {
      expect(leaked[region], region).toEqual({
        liveInstances: [],
        images: [],
        snapshots: [],
        volumes: [],
      });
    }
  }

  function expectBakeFailedEvent(
    events: { 'detail-type': string; detail: unknown }[],
    result: LocalBakeResult,
    stage: string,
  ) {
    const failed = events.filter((e) => e['detail-type'] === 'Bake Failed');
    expect(failed).toHaveLength(1);
    const detail = EVENT_DETAILS['Bake Failed'].parse(failed[0]?.detail);
    expect(detail.stage).toBe(stage);
    expect(detail.error).toBe(result.failure?.error);
    expect(events.map((e) => e['detail-type'])).not.toContain('Bake Succeeded');
    return detail;
  }

  async function builderStates(bakeId: string) {
    const { Reservations = [] } = await ec2('us-east-1').send(
      new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG.bakeId}`, Values: [bakeId] }] }),
    );
    return Reservations.flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
  }

  it('fails at WaitForBuilder with the exit code and log tail when the bootstrap reports failure', async () => {
    const { result, leaked, events } = await failingBake({ builder: 'fail' });
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({ stage: 'WaitForBuilder', error: 'BootstrapFailedError' });
    expect(result.failure?.cause).toMatch(/exited with code 1 on builder i-\w+; log tail: simulated failure/);
    expectNothingLeft(leaked);
    expect(await builderStates(result.bakeId)).toEqual(['terminated']);
    const detail = expectBakeFailedEvent(events, result, 'WaitForBuilder');
    expect(detail.cleanup.terminatedInstances).toHaveLength(1);
  });

  it('fails at WaitForBuilder with States.Timeout when the builder never reports within its budget', async () => {
    // 0.05 minutes = 3 s: the budget is the recipe's, not a number of polls.
    const { result, leaked, events } = await failingBake(
      { builder: 'hang' },
      { bootstrap: { script: 'echo hi', timeoutMinutes: 0.05 } },
    );
    expect(result.failure).toMatchObject({ stage: 'WaitForBuilder', error: 'States.Timeout' });
    expectNothingLeft(leaked);
    expect(await builderStates(result.bakeId)).toEqual(['terminated']);
    expectBakeFailedEvent(events, result, 'WaitForBuilder');
  });

  it('fails at CopyImages and removes the images and snapshots of every region when one copy fails', async () => {
    const { result, leaked, events } = await failingBake({ failCopyRegions: ['eu-west-1'] });
    expect(result.failure, JSON.stringify(result.failure)).toMatchObject({
      stage: 'CopyImages',
      error: 'ImageFailedError',
    });
    expect(result.failure?.cause).toMatch(/in eu-west-1 is failed: simulated copy failure/);
    expectNothingLeft(leaked);
    const detail = expectBakeFailedEvent(events, result, 'CopyImages');
    const cleanedRegions = new Set(detail.cleanup.deregisteredImages.map((i) => i.region));
    expect([...cleanedRegions].sort()).toEqual([...regions].sort());
    expect(detail.cleanup.deletedSnapshots.length).toBeGreaterThanOrEqual(3);
  });

  it('fails at ResolveRecipe, creating nothing, when the base image does not exist', async () => {
    const { result, leaked, events } = await failingBake(
      {},
      { base: { ssmParameter: '/aws/service/no/such/parameter' } },
    );
    expect(result.failure).toMatchObject({ stage: 'ResolveRecipe', error: 'BaseImageNotFoundError' });
    expect(result.failure?.cause).toContain('/aws/service/no/such/parameter');
    expectNothingLeft(leaked);
    expect(await builderStates(result.bakeId)).toEqual([]);
    expectBakeFailedEvent(events, result, 'ResolveRecipe');
    expect(events.map((e) => e['detail-type'])).toEqual(['Bake Failed']);
  });

  it('fails at ResolveRecipe naming builder.instanceType when the type cannot run the base architecture', async () => {
    const { result, leaked } = await failingBake({}, { builder: { instanceType: 't4g.micro' } });
    expect(result.failure).toMatchObject({ stage: 'ResolveRecipe', error: 'RecipeInvalidError' });
    expect(result.failure?.cause).toMatch(
      /builder\.instanceType: t4g\.micro runs arm64, but the base image ami-\w+ is x86_64/,
    );
    expectNothingLeft(leaked);
  });
});
