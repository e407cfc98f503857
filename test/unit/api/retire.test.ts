import { describe, expect, it } from 'vitest';
import { recipe } from '../functions/fixtures.js';
import { api, apiEvent, CATALOG } from './fixtures.js';

/** The catalog with a recipe that keeps its newest two bakes. */
const RETAINED = [
  ...CATALOG,
  { file: 'recipes/kept.yml', recipe: { ...recipe({ name: 'kept' }), retention: { keep: 2 } } },
];

describe('POST /recipes/{name}/retire', () => {
  it("runs the recipe's retention and answers its report", async () => {
    // Prepare
    const { call, retired } = api({ catalog: RETAINED });

    // Act
    const response = await call(apiEvent('POST', '/recipes/kept/retire'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(retired).toEqual([{ recipe: 'kept', keep: 2, dryRun: false }]);
    expect(response.json).toMatchObject({
      recipe: { name: 'kept' },
      trigger: 'request',
      keep: 2,
      dryRun: false,
      regions: { 'us-east-1': { retired: [], kept: [] } },
      links: { recipe: '/recipes/kept' },
    });
  });

  it('with {"dryRun": true} asks for a dry run', async () => {
    // Prepare
    const { call, retired } = api({ catalog: RETAINED });

    // Act
    const response = await call(apiEvent('POST', '/recipes/kept/retire', { body: { dryRun: true } }));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(retired).toEqual([{ recipe: 'kept', keep: 2, dryRun: true }]);
    expect(response.json.dryRun).toBe(true);
  });

  it('refuses a misspelt or non-boolean dryRun with 400, retiring nothing', async () => {
    // Prepare
    const { call, retired } = api({ catalog: RETAINED });

    // Act
    const misspelt = await call(apiEvent('POST', '/recipes/kept/retire', { body: { dryrun: true } }));
    const text = await call(apiEvent('POST', '/recipes/kept/retire', { body: { dryRun: 'yes' } }));

    // Assess
    expect(misspelt.statusCode).toBe(400);
    expect(text.statusCode).toBe(400);
    expect(text.json.problems?.[0]?.path).toBe('dryRun');
    expect(retired).toEqual([]);
  });

  it('answers 404 for a recipe not in the catalog and 409 for one without retention', async () => {
    // Prepare
    const { call, retired } = api({ catalog: RETAINED });

    // Act
    const unknown = await call(apiEvent('POST', '/recipes/nope/retire'));
    const without = await call(apiEvent('POST', '/recipes/web/retire'));

    // Assess
    expect(unknown.statusCode).toBe(404);
    expect(without.statusCode).toBe(409);
    expect(without.json).toMatchObject({ error: 'RetentionNotConfigured' });
    expect(retired).toEqual([]);
  });
});
