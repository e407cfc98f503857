import { describe, expect, it, vi } from 'vitest';
import { retireEventSchema, retireForOrder } from '../../../functions/retire-images/core.js';
import { type ImagesRetiredDetail, imagesRetiredDetail } from '../../../lib/events.js';
import { logger } from '../../../lib/logger.js';
import type { CatalogEntry } from '../../../lib/recipe/catalog.js';
import type { ResolvedRecipe } from '../../../lib/state.js';
import { bake, emptyWorld, fakeAws, imageOf, STACK, type World } from '../retention/fake-aws.js';

vi.spyOn(logger, 'info').mockImplementation(() => undefined);

const entry = (name: string, retention?: { keep: number }): CatalogEntry => ({
  file: `recipes/${name}.yml`,
  recipe: {
    name,
    distribution: { regions: ['eu-west-1'] },
    ...(retention ? { retention } : {}),
  } as ResolvedRecipe,
});

/** Recipe `web` (keep 1) baked three times in us-east-1 and eu-west-1; `api` has no retention. */
function setup() {
  const worlds: Record<string, World> = { 'us-east-1': emptyWorld(), 'eu-west-1': emptyWorld() };
  for (let n = 1; n <= 3; n++) for (const [r, w] of Object.entries(worlds)) bake(w, r, n);
  const fake = fakeAws(worlds);
  const published: ImagesRetiredDetail[] = [];
  const run = (event: unknown) =>
    retireForOrder(retireEventSchema.parse(event), {
      catalog: async () => [entry('web', { keep: 1 }), entry('api')],
      buildRegion: 'us-east-1',
      stack: STACK,
      retention: fake.deps,
      publish: async (detail) => {
        published.push(imagesRetiredDetail.parse(detail));
      },
    });
  return { run, published, mutations: fake.mutations, worlds };
}

const bakeSucceeded = (recipe: string) => ({
  version: '0',
  source: 'ami-bake',
  'detail-type': 'Bake Succeeded',
  detail: { bakeId: 'bake-0003', recipe: { name: recipe, hash: 'h' }, buildRegion: 'us-east-1', images: {} },
});

describe('retireImages (the function)', () => {
  it("retires after a recipe's Bake Succeeded and publishes Images Retired naming the bake", async () => {
    // Prepare
    const { run, published, worlds } = setup();

    // Act
    const result = await run(bakeSucceeded('web'));

    // Assess
    expect(result.reports).toHaveLength(1);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      bakeId: 'bake-0003',
      trigger: 'bake',
      keep: 1,
      recipe: { name: 'web' },
    });
    expect(published[0]?.regions['eu-west-1']?.retired.map((i) => i.imageId).sort()).toEqual([
      imageOf('eu-west-1', 1),
      imageOf('eu-west-1', 2),
    ]);
    expect(worlds['us-east-1']?.images.map((i) => i.id)).toEqual([imageOf('us-east-1', 3)]);
  });

  it('does nothing for a recipe without retention', async () => {
    // Prepare
    const { run, published, mutations } = setup();

    // Act
    const result = await run(bakeSucceeded('api'));

    // Assess
    expect(result).toEqual({ reports: [], skipped: 'recipe api has no retention' });
    expect(published).toEqual([]);
    expect(mutations).toEqual([]);
  });

  it('on the schedule runs every recipe of the catalog that has retention', async () => {
    // Prepare
    const { run, published } = setup();

    // Act
    const result = await run({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });

    // Assess
    expect(result.reports.map((r) => [r.recipe.name, r.trigger])).toEqual([['web', 'schedule']]);
    expect(published[0]?.bakeId).toBeUndefined();
  });

  it('on a dry-run request reports and publishes nothing, changes nothing', async () => {
    // Prepare
    const { run, published, mutations } = setup();

    // Act
    const result = await run({ recipe: 'web', dryRun: true });

    // Assess
    expect(result.reports[0]?.dryRun).toBe(true);
    expect(result.reports[0]?.regions['us-east-1']?.retired).toHaveLength(2);
    expect(published).toEqual([]);
    expect(mutations).toEqual([]);
  });

  it('publishes nothing when only the newest bakes exist', async () => {
    // Prepare
    const { run, published } = setup();
    await run(bakeSucceeded('web'));

    // Act
    await run(bakeSucceeded('web'));

    // Assess
    expect(published).toHaveLength(1);
  });

  it.each<[unknown, string]>([
    [{ recipe: 'web', dryrun: true }, 'a misspelt dryRun'],
    [{ recipe: 'web', dryRun: 'yes' }, 'a dryRun that is not a boolean'],
    [{ recipe: 'Web!' }, 'a recipe that is not a recipe name'],
  ])('refuses %j (%s) rather than retire', (event) => {
    // Act
    const parsed = retireEventSchema.safeParse(event);

    // Assess
    expect(parsed.success).toBe(false);
  });
});
