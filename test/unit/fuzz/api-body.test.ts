import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { api, apiEvent, CATALOG } from '../api/fixtures.js';
import { anyValue, expectProblemList, fuzzParams } from './problems.js';

const RECIPES = CATALOG.map((c) => c.recipe.name);
const BODY_FIELDS = ['recipe', 'overrides', 'reason', 'force', 'trigger'];
/** What the API may answer a request it cannot serve: never 500 (a bug) or 502 (AWS refused). */
const REFUSALS = [400, 404, 405, 409, 413, 415, 422];

/** Bodies near the real shape (a known or unknown recipe, overrides of any shape) and raw text. */
const body = fc.oneof(
  fc.record(
    {
      recipe: fc.oneof(fc.constantFrom(...RECIPES), anyValue),
      overrides: fc.oneof(
        anyValue,
        fc.record(
          { builder: fc.record({ instanceType: anyValue }, { requiredKeys: [] }), image: anyValue },
          { requiredKeys: [] },
        ),
      ),
      reason: anyValue,
      force: anyValue,
      colour: anyValue,
    },
    { requiredKeys: [] },
  ),
  anyValue,
  fc.string({ maxLength: 200 }),
);

describe('API request bodies, property-based', () => {
  it('answers any POST /bakes body with a success or a refusal listing what is wrong, never a 500', async () => {
    const { call } = api();
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (raw, asText) => {
        const text = typeof raw === 'string' && asText ? raw : JSON.stringify(raw);
        const response = await call(apiEvent('POST', '/bakes', { body: text ?? '' }));
        if (response.statusCode === 202 || response.statusCode === 200) {
          // Accepted: only a JSON object naming a catalog recipe, with no field the API does not know.
          const sent = JSON.parse(text ?? '""') as Record<string, unknown>;
          expect(RECIPES).toContain(sent.recipe);
          expect(Object.keys(sent).every((k) => BODY_FIELDS.includes(k))).toBe(true);
          return;
        }
        expect(REFUSALS).toContain(response.statusCode);
        expect(typeof response.json.error).toBe('string');
        if (response.statusCode === 400) expectProblemList(response.json.problems ?? []);
      }),
      fuzzParams(2_000),
    );
  });

  it('answers any query and path with a result or a refusal, never a 500', async () => {
    const { call } = api();
    const segment = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('bakes', 'recipes', 'cancel', '..', '%00'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'DELETE'),
        fc.array(segment, { maxLength: 4 }),
        fc.string({ maxLength: 40 }),
        async (method, segments, query) => {
          const response = await call(apiEvent(method, `/${segments.join('/')}`, { query }));
          expect(response.statusCode).toBeLessThan(500);
          if (response.statusCode === 400) expectProblemList(response.json.problems ?? []);
        },
      ),
      fuzzParams(1_000),
    );
  });
});
