import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_DETAILS } from '../../lib/events.js';
import { type CatalogEntry, loadCatalog } from '../../lib/recipe/catalog.js';
import type { StartResult } from '../../lib/start/start-bake.js';
import { startBake } from '../../lib/start/start-bake.js';
import { TAG } from '../../lib/tags.js';
import { LocalExecutions } from '../../local/executions.js';
import { type EventTap, provisionLocalStack, tapEvents } from '../../local/stack.js';
import { bakeRequestedRule, localStartDeps } from '../../local/start.js';
import { added, type Inventory, inventories, tagsOf, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1'];
type Started = Extract<StartResult, { bakeId: string }>;

describe('the start path (Bake Requested, skip when unchanged, force) against the emulator', () => {
  useEmulator();
  let catalog: readonly CatalogEntry[];
  let busName: string;
  let executions: LocalExecutions;
  let published: EventTap;

  beforeAll(async () => {
    catalog = await loadCatalog('test/fixtures/catalog');
    busName = (await provisionLocalStack('us-east-1')).busName;
    published = await tapEvents('us-east-1', busName, 'start-test', { source: ['ami-bake'] });
    executions = new LocalExecutions({ region: 'us-east-1' });
  });

  const deps = () => localStartDeps({ catalog, region: 'us-east-1', busName, executions });

  async function requestBake(detail: Record<string, unknown>) {
    await new EventBridgeClient({ region: 'us-east-1' }).send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'e2e.release-pipeline',
            DetailType: 'Bake Requested',
            Detail: JSON.stringify(detail),
            EventBusName: busName,
          },
        ],
      }),
    );
  }

  let first: Started;
  let firstImages: Record<string, { imageId: string }>;

  it('starts one local bake for two identical Bake Requested events, and returns it to the second', async () => {
    // Prepare
    const rule = await bakeRequestedRule('us-east-1', busName, deps());
    const before = await inventories(regions);

    // Act
    await requestBake({ recipe: 'start-web', idempotencyKey: 'release-42', reason: 'release 42' });
    await requestBake({ recipe: 'start-web', idempotencyKey: 'release-42', reason: 'release 42' });
    const results = await rule.drain();
    await rule.remove();
    first = results[0] as Started;
    const bake = await executions.result(first.bakeId);
    const after = await inventories(regions);

    // Assess
    expect(results.map((r) => r.status)).toEqual(['started', 'existing']);
    expect((results[1] as Started).bakeId).toBe(first.bakeId);
    expect(bake.status).toBe('succeeded');
    firstImages = bake.images;
    for (const region of regions) {
      const images = added(before[region] as Inventory, after[region] as Inventory).images;
      expect(images, region).toEqual([bake.images[region]?.imageId]);
      const image = (after[region] as Inventory).images.find((i) => i.ImageId === images[0]);
      expect(tagsOf(image)[TAG.contentKey]).toBe(first.contentKey);
    }
  });

  it('skips an unchanged recipe: publishes Bake Skipped with the existing images and creates nothing', async () => {
    // Prepare
    const before = await inventories(regions);
    await published.read(); // only what this request publishes

    // Act
    const result = await startBake({ recipe: 'start-web', source: 'schedule' }, deps());
    const after = await inventories(regions);
    const events = await published.read();

    // Assess
    expect(result).toMatchObject({ status: 'skipped', contentKey: first.contentKey });
    for (const region of regions) {
      expect(added(before[region] as Inventory, after[region] as Inventory)).toEqual({
        liveInstances: [],
        images: [],
        snapshots: [],
        volumes: [],
      });
    }
    expect(events.map((e) => e['detail-type'])).toEqual(['Bake Skipped']);
    const detail = EVENT_DETAILS['Bake Skipped'].parse(events[0]?.detail);
    expect(Object.fromEntries(Object.entries(detail.images).map(([r, i]) => [r, i.imageId]))).toEqual(
      Object.fromEntries(Object.entries(firstImages).map(([r, i]) => [r, i.imageId])),
    );
    expect(detail.source).toBe('schedule');
  });

  it('bakes anyway with force: true, giving new images with the same content key', async () => {
    // Prepare
    const before = await inventories(regions);

    // Act
    const result = (await startBake({ recipe: 'start-web', source: 'api', force: true }, deps())) as Started;
    const bake = await executions.result(result.bakeId);
    const after = await inventories(regions);

    // Assess
    expect(result.status).toBe('started');
    expect(result.bakeId).not.toBe(first.bakeId);
    expect(result.contentKey).toBe(first.contentKey);
    expect(bake.status).toBe('succeeded');
    for (const region of regions) {
      expect(added(before[region] as Inventory, after[region] as Inventory).images).toEqual([
        bake.images[region]?.imageId,
      ]);
    }
  });

  it('bakes again when an override changes the content', async () => {
    // Act
    const result = (await startBake(
      { recipe: 'start-web', source: 'api', overrides: { image: { tags: { channel: 'beta' } } } },
      deps(),
    )) as Started;
    const bake = await executions.result(result.bakeId);

    // Assess
    expect(result.status).toBe('started');
    expect(result.contentKey).not.toBe(first.contentKey);
    expect(bake.status).toBe('succeeded');
  });
});
