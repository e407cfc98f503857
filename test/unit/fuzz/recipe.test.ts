import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRecipe, parseRecipeText } from '../../../lib/recipe/load.js';
import { anyValue, expectProblemList, fuzzParams, kindOf } from './problems.js';

const VALID = {
  name: 'web',
  base: { imageId: 'ami-0123456789abcdef0' },
  builder: { instanceType: 't3.micro', volumes: { root: { sizeGiB: 20 } }, tags: { team: 'web' } },
  bootstrap: { platform: 'linux', script: 'echo hi', timeoutMinutes: 30 },
  image: { name: '{recipe}-{date}-{shortId}', tags: { os: 'al2023' } },
  distribution: { regions: ['us-east-1', 'eu-west-1'] },
};

/** Fields of VALID with the JSON kind their schema takes: any other kind must be refused there. */
const TYPED_FIELDS: { path: string[]; kind: string }[] = [
  { path: ['name'], kind: 'string' },
  { path: ['base'], kind: 'object' },
  { path: ['base', 'imageId'], kind: 'string' },
  { path: ['builder'], kind: 'object' },
  { path: ['builder', 'instanceType'], kind: 'string' },
  { path: ['builder', 'volumes', 'root', 'sizeGiB'], kind: 'number' },
  { path: ['builder', 'tags'], kind: 'object' },
  { path: ['bootstrap'], kind: 'object' },
  { path: ['bootstrap', 'script'], kind: 'string' },
  { path: ['bootstrap', 'timeoutMinutes'], kind: 'number' },
  { path: ['image', 'name'], kind: 'string' },
  { path: ['image', 'tags'], kind: 'object' },
  { path: ['distribution', 'regions'], kind: 'array' },
];

function withField(path: readonly string[], value: unknown): Record<string, unknown> {
  const recipe = structuredClone(VALID) as Record<string, unknown>;
  let at = recipe;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[path[path.length - 1] as string] = value;
  return recipe;
}

/** YAML made of the pieces attacks are made of: anchors, aliases, flow brackets, tags, block scalars. */
const yamlText = fc
  .array(
    fc.oneof(
      fc.constantFrom('[', ']', '{', '}', '&a ', '*a', '&b ', '*b', ': ', ', ', '\n', '\n  ', '- ', '? '),
      fc.constantFrom(
        'name: web\n',
        'bootstrap:\n  file: ',
        '../',
        '/etc/hostname',
        '!!binary ',
        '!!js/function ',
      ),
      fc.constantFrom('"', "'", '#', '|', '>', '%YAML 1.2\n', '---\n', '<<: *a\n', '\t', '\u0000', '\ufeff'),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

/** Inputs that once crashed the loader: every run tries them first, then generated ones. */
const LAUGHS = `a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
`;
const DEEP_TEXT = `name: web\ntriggers: [{name: t, pattern: {detail: ${'['.repeat(5_000)}${']'.repeat(5_000)}}}]\n`;
const deepValue = (depth: number): unknown => {
  let v: unknown = [1];
  for (let i = 0; i < depth; i += 1) v = { a: v };
  return v;
};

describe('recipes, property-based', () => {
  it('answers any value given as a recipe with a result, never an exception', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(anyValue, fc.dictionary(fc.constantFrom(...Object.keys(VALID), 'x'), anyValue)),
        async (raw) => {
          const result = await parseRecipe(raw, process.cwd());
          if (!result.ok) expectProblemList(result.problems);
        },
      ),
      {
        ...fuzzParams(2_500),
        examples: [[{ ...VALID, triggers: [{ name: 't', pattern: { detail: deepValue(50_000) } }] }]],
      },
    );
  });

  it('refuses a value of the wrong kind in any field, naming that field', async () => {
    const field = fc.constantFrom(...TYPED_FIELDS);
    const wrong = fc.tuple(field, anyValue).filter(([f, v]) => v !== undefined && kindOf(v) !== f.kind);
    await fc.assert(
      fc.asyncProperty(wrong, async ([f, value]) => {
        const result = await parseRecipe(withField(f.path, value), process.cwd());
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expectProblemList(result.problems);
        const named = f.path.join('.');
        expect(result.problems.map((p) => p.path)).toContainEqual(
          expect.stringMatching(new RegExp(`^${named.replace(/\./g, '\\.')}`)),
        );
      }),
      fuzzParams(2_000),
    );
  });

  it('answers any YAML text (anchors, aliases, brackets, tags) with a result, never an exception', async () => {
    await fc.assert(
      fc.asyncProperty(yamlText, async (text) => {
        const result = await parseRecipeText(text, process.cwd());
        if (!result.ok) expectProblemList(result.problems);
      }),
      { ...fuzzParams(1_500), examples: [[LAUGHS], [DEEP_TEXT]] },
    );
  });
});
