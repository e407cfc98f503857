import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { sweepRegions } from '../../../functions/sweep-leftovers/regions.js';
import { config } from '../../../lib/config.js';
import { logger } from '../../../lib/logger.js';
import { CatalogError, loadCatalog } from '../../../lib/recipe/catalog.js';

describe('sweepRegions', () => {
  it('is the build region, every region of every recipe in the catalog and the extra ones, once each', async () => {
    const catalog = async () => loadCatalog(join(import.meta.dirname, '../../../recipes'));
    const targets = (await catalog()).flatMap((e) => e.recipe.distribution.regions);

    const { regions, problems } = await sweepRegions('us-east-1', ['sa-east-1', 'eu-west-1'], catalog);

    expect(targets.length).toBeGreaterThan(0);
    expect(regions[0]).toBe('us-east-1');
    expect(regions).toEqual(expect.arrayContaining([...targets, 'sa-east-1', 'eu-west-1']));
    expect(new Set(regions).size).toBe(regions.length);
    expect(problems).toEqual([]);
  });

  it('still sweeps the build region and the extra ones when the catalog does not load', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const broken = async () => {
      throw new CatalogError(new Map([['recipes/bad.yml', [{ path: 'name', message: 'required' }]]]));
    };

    const { regions, problems } = await sweepRegions('eu-central-1', ['us-west-2'], broken);

    expect(regions).toEqual(['eu-central-1', 'us-west-2']);
    expect(problems).toEqual([expect.stringMatching(/^catalog: CatalogError: 1 recipe cannot be loaded/)]);
  });
});

describe('the sweeper environment', () => {
  it('sweeps no extra region, waits 24 hours for bakes it has no execution for and then terminates only their builders, by default', () => {
    expect(config({})).toMatchObject({
      SWEEP_EXTRA_REGIONS: [],
      SWEEP_GRACE_HOURS: 24,
      SWEEP_UNKNOWN_BAKES: 'builders',
    });
  });

  it('reads extra regions as a comma-separated list and the grace period in hours', () => {
    const c = config({ SWEEP_EXTRA_REGIONS: ' sa-east-1, us-west-2 ,', SWEEP_GRACE_HOURS: '72' });

    expect(c).toMatchObject({ SWEEP_EXTRA_REGIONS: ['sa-east-1', 'us-west-2'], SWEEP_GRACE_HOURS: 72 });
  });

  it('fails fast on a region that does not exist or a grace period that is not a number', () => {
    expect(() => config({ SWEEP_EXTRA_REGIONS: 'us-east-1,mars-north-1' })).toThrow(/SWEEP_EXTRA_REGIONS/);
    expect(() => config({ SWEEP_GRACE_HOURS: 'a day' })).toThrow(/SWEEP_GRACE_HOURS/);
    expect(() => config({ SWEEP_UNKNOWN_BAKES: 'all' })).toThrow(/SWEEP_UNKNOWN_BAKES/);
  });
});
