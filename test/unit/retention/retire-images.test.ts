import { describe, expect, it } from 'vitest';
import { type RetentionReport, type RetentionRequest, retireImages } from '../../../lib/retention/core.js';
import { bake, emptyWorld, fakeAws, imageOf, lineage, RECIPE, STACK, type World } from './fake-aws.js';

const REGIONS = ['us-east-1', 'eu-west-1'];

/** Bakes 1..n of the recipe, each with an image in both regions (bake n is the newest). */
function baked(n: number, options: Parameters<typeof bake>[3] = {}): Record<string, World> {
  const worlds = Object.fromEntries(REGIONS.map((r) => [r, emptyWorld()]));
  for (let i = 1; i <= n; i++) for (const r of REGIONS) bake(worlds[r] as World, r, i, options);
  return worlds;
}

function retire(
  worlds: Record<string, World>,
  request: Partial<RetentionRequest['recipe']> & { dryRun?: boolean } = {},
) {
  const fake = fakeAws(worlds);
  const { dryRun = false, ...recipe } = request;
  const run = retireImages(
    {
      recipe: { name: RECIPE, keep: 2, regions: REGIONS, ...recipe },
      trigger: 'bake',
      bakeId: 'bake-0009',
      dryRun,
      stack: STACK,
    },
    fake.deps,
  );
  return { run, mutations: fake.mutations };
}

const retiredIds = (r: RetentionReport, region: string) =>
  r.regions[region]?.retired.map((i) => i.imageId).sort();
const keptIds = (r: RetentionReport, region: string) => r.regions[region]?.kept.map((i) => i.imageId).sort();
const reasonsOf = (r: RetentionReport, region: string, imageId: string) =>
  r.regions[region]?.kept.find((k) => k.imageId === imageId)?.reasons;
const imagesLeft = (w: World | undefined) => (w?.images ?? []).map((i) => i.id).sort();

describe('retireImages', () => {
  it('keeps the newest bakes and retires the older ones, images and snapshots, in every region', async () => {
    // Prepare
    const worlds = baked(4);

    // Act
    const report = await retire(worlds).run;

    // Assess
    for (const r of REGIONS) {
      expect(retiredIds(report, r)).toEqual([imageOf(r, 1), imageOf(r, 2)]);
      expect(keptIds(report, r)).toEqual([imageOf(r, 3), imageOf(r, 4)]);
      expect(imagesLeft(worlds[r])).toEqual([imageOf(r, 3), imageOf(r, 4)]);
      expect(worlds[r]?.snapshots).toEqual([
        `snap-${imageOf(r, 3).slice(4)}`,
        `snap-${imageOf(r, 4).slice(4)}`,
      ]);
      expect(report.regions[r]?.retired.find((i) => i.imageId === imageOf(r, 1))?.deletedSnapshots).toEqual([
        `snap-${imageOf(r, 1).slice(4)}`,
      ]);
    }
    expect(reasonsOf(report, 'us-east-1', imageOf('us-east-1', 4))).toEqual([
      { kind: 'newest', detail: 'bake 1 of the newest 2 (x86_64)' },
    ]);
    expect(report).toMatchObject({
      recipe: { name: RECIPE },
      bakeId: 'bake-0009',
      trigger: 'bake',
      keep: 2,
      problems: [],
    });
  });

  it('ranks bakes by when their images were created, not by bake id or listing order', async () => {
    // Prepare: bake ids sort the other way round from their dates
    const worlds = baked(3);
    for (const w of Object.values(worlds)) {
      for (const image of w.images) {
        const n = Number(image.id.slice(-1));
        image.tags = lineage(`bake-${String(9 - n)}xxxxxxx`);
      }
      w.images.reverse();
    }

    // Act
    const report = await retire(worlds, { keep: 1 }).run;

    // Assess
    expect(keptIds(report, 'us-east-1')).toEqual([imageOf('us-east-1', 3)]);
  });

  it('counts bakes per architecture: each architecture keeps its own newest bakes', async () => {
    // Prepare
    const worlds = baked(3);
    for (const r of REGIONS) bake(worlds[r] as World, r, 1, { architecture: 'arm64' });

    // Act
    const report = await retire(worlds, { keep: 1 }).run;

    // Assess
    expect(keptIds(report, 'eu-west-1')).toEqual(
      [imageOf('eu-west-1', 3), imageOf('eu-west-1', 1, 'arm64')].sort(),
    );
    expect(retiredIds(report, 'eu-west-1')).toEqual([imageOf('eu-west-1', 1), imageOf('eu-west-1', 2)]);
  });

  it("never looks at another recipe's or another stack's images, nor at images without lineage", async () => {
    // Prepare
    const worlds = baked(3);
    const w = worlds['us-east-1'] as World;
    bake(w, 'us-east-1', 5, { recipe: 'other' });
    w.images.push({
      id: 'ami-base',
      tags: [],
      created: '2020-01-01T00:00:00.000Z',
      snapshotIds: ['snap-base'],
    });
    bake(w, 'us-east-1', 6, { stack: 'ami-bake-prod' });
    const others = ['ami-base', imageOf('us-east-1', 5), imageOf('us-east-1', 6)];

    // Act
    const report = await retire(worlds, { keep: 1 }).run;

    // Assess
    expect(imagesLeft(w)).toEqual([...others, imageOf('us-east-1', 3)].sort());
    expect(JSON.stringify(report)).not.toMatch(/ami-base|ami-us5|ami-us6/);
  });

  it('keeps an older image used by a launch template default or latest version, an instance, Auto Scaling or the parameter, with each reason', async () => {
    // Prepare: bakes 1..8; keep 1, so 1..7 are candidates
    const worlds = baked(8);
    const w = worlds['us-east-1'] as World;
    const id = (n: number) => imageOf('us-east-1', n);
    w.templates.push({
      id: 'lt-1',
      name: 'web',
      versions: [id(1), id(2), 'ami-elsewhere'],
      defaultVersion: 2,
    });
    w.templates.push({ id: 'lt-2', name: 'batch', versions: [id(7), id(3)], defaultVersion: 1 });
    w.templates.push({ id: 'lt-3', name: 'single', versions: [id(7)], defaultVersion: 1 });
    w.instances.push({ id: 'i-stopped', imageId: id(4), state: 'stopped' });
    w.instances.push({ id: 'i-gone', imageId: id(1), state: 'terminated' });
    w.launchConfigurations.push({ name: 'old-lc', imageId: id(5) });
    w.groups.push({ name: 'asg-pinned', launchTemplate: { id: 'lt-1', version: '1' } });
    w.parameters['/ami-bake/web/x86_64'] = id(6);

    // Act
    const report = await retire(worlds, { keep: 1, ssmParameter: '/ami-bake/web/{architecture}' }).run;

    // Assess
    const kinds = (n: number) => reasonsOf(report, 'us-east-1', id(n))?.map((r) => r.kind);
    expect(kinds(1)).toEqual(['auto-scaling-group']);
    expect(kinds(2)).toEqual(['launch-template']);
    expect(kinds(3)).toEqual(['launch-template']);
    expect(kinds(4)).toEqual(['instance']);
    expect(kinds(5)).toEqual(['launch-configuration']);
    expect(kinds(6)).toEqual(['ssm-parameter']);
    // lt-2's default version and lt-3's only version, which is its default and its latest: once.
    expect(kinds(7)).toEqual(['launch-template', 'launch-template']);
    expect(kinds(8)).toEqual(['newest']);
    expect(reasonsOf(report, 'us-east-1', id(2))?.[0]?.detail).toBe(
      'launch template web (lt-1) version 2 (default)',
    );
    expect(reasonsOf(report, 'us-east-1', id(3))?.[0]?.detail).toBe(
      'launch template batch (lt-2) version 2 (latest)',
    );
    expect(reasonsOf(report, 'us-east-1', id(4))?.[0]?.detail).toBe('instance i-stopped (stopped)');
    expect(reasonsOf(report, 'us-east-1', id(5))?.[0]?.detail).toBe(
      'launch configuration old-lc (no group uses it now)',
    );
    expect(reasonsOf(report, 'us-east-1', id(1))?.[0]?.detail).toBe(
      'group asg-pinned: launch template web (lt-1) version 1',
    );
    expect(reasonsOf(report, 'us-east-1', id(6))?.[0]?.detail).toBe('parameter /ami-bake/web/x86_64');
    expect(retiredIds(report, 'us-east-1')).toEqual([]);
    // Uses are regional: the same bakes' copies in eu-west-1 are not in use there.
    expect(retiredIds(report, 'eu-west-1')).toHaveLength(7);
  });

  it('keeps an image with deregistration protection, and never turns protection off', async () => {
    // Prepare
    const worlds = baked(2);
    const protectedImage = (worlds['eu-west-1'] as World).images.find(
      (i) => i.id === imageOf('eu-west-1', 1),
    );
    if (protectedImage) protectedImage.protection = 'enabled-without-cooldown';

    // Act
    const { run, mutations } = retire(worlds, { keep: 1 });
    const report = await run;

    // Assess
    expect(reasonsOf(report, 'eu-west-1', imageOf('eu-west-1', 1))).toEqual([
      { kind: 'deregistration-protection', detail: 'deregistration protection enabled-without-cooldown' },
    ]);
    expect(mutations.filter((m) => m.startsWith('eu-west-1'))).toEqual([]);
    expect(retiredIds(report, 'us-east-1')).toEqual([imageOf('us-east-1', 1)]);
  });

  it('does not count an unfinished bake (a live instance, or an image not available) and does not retire it', async () => {
    // Prepare: bakes 3 and 4 are newer but not finished
    const worlds = baked(2);
    for (const r of REGIONS)
      bake(worlds[r] as World, r, 3, { state: r === 'eu-west-1' ? 'pending' : 'available' });
    for (const r of REGIONS) bake(worlds[r] as World, r, 4);
    (worlds['us-east-1'] as World).instances.push({
      id: 'i-builder',
      imageId: 'ami-base',
      state: 'stopped',
      tags: lineage('bake-0004'),
    });

    // Act
    const report = await retire(worlds, { keep: 1 }).run;

    // Assess
    expect(retiredIds(report, 'us-east-1')).toEqual([imageOf('us-east-1', 1)]);
    expect(reasonsOf(report, 'us-east-1', imageOf('us-east-1', 2))?.[0]?.kind).toBe('newest');
    expect(reasonsOf(report, 'us-east-1', imageOf('us-east-1', 3))?.[0]?.detail).toMatch(
      /in eu-west-1 is pending/,
    );
    expect(reasonsOf(report, 'eu-west-1', imageOf('eu-west-1', 4))?.[0]).toEqual({
      kind: 'in-progress',
      detail: 'bake bake-0004 still has a live instance',
    });
  });

  it('in a dry run reports what would be retired and why the rest is kept, and changes nothing', async () => {
    // Prepare
    const worlds = baked(3);
    (worlds['us-east-1'] as World).instances.push({
      id: 'i-1',
      imageId: imageOf('us-east-1', 1),
      state: 'running',
    });
    const before = structuredClone(worlds);

    // Act
    const { run, mutations } = retire(worlds, { keep: 1, dryRun: true });
    const report = await run;

    // Assess
    expect(mutations).toEqual([]);
    expect(worlds).toEqual(before);
    expect(report.dryRun).toBe(true);
    expect(retiredIds(report, 'us-east-1')).toEqual([imageOf('us-east-1', 2)]);
    expect(retiredIds(report, 'eu-west-1')).toEqual([imageOf('eu-west-1', 1), imageOf('eu-west-1', 2)]);
    expect(reasonsOf(report, 'us-east-1', imageOf('us-east-1', 1))?.[0]?.kind).toBe('instance');
  });

  it("keeps a region's candidates when its uses cannot be checked, and still retires elsewhere", async () => {
    // Prepare
    const worlds = baked(2);
    (worlds['eu-west-1'] as World).broken = 'autoscaling';

    // Act
    const { run, mutations } = retire(worlds, { keep: 1 });
    const report = await run;

    // Assess
    expect(reasonsOf(report, 'eu-west-1', imageOf('eu-west-1', 1))?.[0]?.kind).toBe('unverified');
    expect(mutations.filter((m) => m.startsWith('eu-west-1'))).toEqual([]);
    expect(retiredIds(report, 'us-east-1')).toEqual([imageOf('us-east-1', 1)]);
    expect(report.problems).toEqual([
      'eu-west-1: uses not checked: AccessDeniedException: autoscaling denied in eu-west-1',
    ]);
  });

  it('retires nothing anywhere when a region cannot be listed: the newest bakes are not known', async () => {
    // Prepare
    const worlds = baked(3);
    (worlds['eu-west-1'] as World).broken = 'ec2';

    // Act
    const { run, mutations } = retire(worlds, { keep: 1 });
    const report = await run;

    // Assess
    expect(mutations).toEqual([]);
    expect(report.regions['us-east-1']?.kept.map((k) => k.reasons[0]?.kind).sort()).toEqual([
      'newest',
      'unverified',
      'unverified',
    ]);
    expect(report.problems).toHaveLength(1);
  });

  it('is safe to run twice: the second run retires nothing more', async () => {
    // Prepare
    const worlds = baked(3);
    await retire(worlds, { keep: 1 }).run;

    // Act
    const { run, mutations } = retire(worlds, { keep: 1 });
    const report = await run;

    // Assess
    expect(mutations).toEqual([]);
    expect(retiredIds(report, 'us-east-1')).toEqual([]);
    expect(keptIds(report, 'us-east-1')).toEqual([imageOf('us-east-1', 3)]);
  });
});
