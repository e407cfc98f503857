import { beforeAll, describe, expect, it } from 'vitest';
import { type LocalBakeResult, runLocalBake } from '../../local/runner.js';
import { added, type Inventory, inventories, recipe, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const BAKES = 5;

/**
 * Several bakes at once in one process, as a stack runs them: they share the handlers, the
 * stack, the catalog, the event bus and the reconciler, and each still gets its own images,
 * its own events and its own cleanup.
 */
describe('five three-region bakes running at once in one process', () => {
  useEmulator();
  let results: LocalBakeResult[];
  let before: Record<string, Inventory>;
  let after: Record<string, Inventory>;

  beforeAll(async () => {
    // Two recipes baked twice and one once: bakes of one recipe share its catalog entry.
    const names = ['web-a', 'web-b', 'web-a', 'web-c', 'web-b'].slice(0, BAKES);
    const recipes = await Promise.all(names.map((name) => recipe({ name })));
    before = await inventories(regions);
    results = await Promise.all(recipes.map((r) => runLocalBake({ recipe: r, region: 'us-east-1' })));
    after = await inventories(regions);
  }, 120_000);

  it('succeeds every bake with one image per region', () => {
    expect(results.map((r) => r.status)).toEqual(Array(BAKES).fill('succeeded'));
    for (const r of results) expect(Object.keys(r.images).sort()).toEqual([...regions].sort());
  });

  // 16 before issue 9 added the routing Choices (Announce, Fanout, TestOrNot, Member); a recipe
  // that distributes nothing skips DistributeImage.
  it('bills each bake 20 state transitions, as a bake alone (issue 8, target 5)', () => {
    expect(results.map((r) => r.transitions)).toEqual(Array(BAKES).fill(20));
  });

  it('gives every bake its own images and image name', () => {
    const ids = results.flatMap((r) => Object.values(r.images).map((i) => i.imageId));
    expect(new Set(ids).size).toBe(BAKES * regions.length);
    expect(new Set(results.map((r) => r.imageName)).size).toBe(BAKES);
  });

  it('resolves each bake to the recipe it was started with', () => {
    expect(results.map((r) => r.recipe)).toEqual(['web-a', 'web-b', 'web-a', 'web-c', 'web-b']);
    for (const r of results) expect(r.imageName).toMatch(new RegExp(`^${r.recipe}-`));
  });

  it('reads to each bake exactly its own events, Bake Started then Bake Succeeded', () => {
    for (const r of results) {
      expect(r.events.map((e) => e['detail-type'])).toEqual(['Bake Started', 'Bake Succeeded']);
      expect(r.events.every((e) => e.detail.bakeId === r.bakeId)).toBe(true);
    }
  });

  it.each(regions)('leaves in %s only the bakes’ images, and no builder', (region) => {
    const diff = added(before[region] as Inventory, after[region] as Inventory);
    expect(diff.liveInstances).toEqual([]);
    expect(diff.images.sort()).toEqual(results.map((r) => r.images[region]?.imageId).sort());
    expect(diff.snapshots.sort()).toEqual(results.flatMap((r) => r.images[region]?.snapshotIds ?? []).sort());
  });

  it('bakes alone again once the others are done (the next bake starts a fresh session)', async () => {
    const alone = await runLocalBake({ recipe: await recipe({ name: 'web-a' }), region: 'us-east-1' });
    expect(alone.status).toBe('succeeded');
  }, 60_000);
});
