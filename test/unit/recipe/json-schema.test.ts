import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// ajv comes with asl-validator (a dev dependency); it implements draft-07, the draft the schema targets.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  isRecipeJsonSchemaCurrent,
  RECIPE_SCHEMA_PATH,
  recipeJsonSchema,
  renderRecipeJsonSchema,
} from '../../../scripts/generate-json-schema.js';

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/recipes/${path}`, import.meta.url));
const repoFile = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const readYaml = (path: string): unknown => parse(readFileSync(path, 'utf8'));

const committed = JSON.parse(readFileSync(RECIPE_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
const validate = new Ajv({ allErrors: true }).compile(committed);

describe('docs/recipe.schema.json', () => {
  it('is what `npm run schema` generates from lib/recipe/schema.ts', () => {
    // Act
    const text = readFileSync(RECIPE_SCHEMA_PATH, 'utf8');

    // Assess
    expect(text, 'docs/recipe.schema.json is stale: run `npm run schema` and commit the result').toBe(
      renderRecipeJsonSchema(),
    );
  });

  it('is reported stale by `npm run schema -- --check` when it differs, and current when it matches', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'recipe-schema-'));
    writeFileSync(join(dir, 'current.json'), renderRecipeJsonSchema());
    writeFileSync(join(dir, 'stale.json'), renderRecipeJsonSchema().replace('"instanceType"', '"type"'));

    // Act
    const current = await isRecipeJsonSchemaCurrent(join(dir, 'current.json'));
    const stale = await isRecipeJsonSchemaCurrent(join(dir, 'stale.json'));
    const missing = await isRecipeJsonSchemaCurrent(join(dir, 'missing.json'));

    // Assess
    expect({ current, stale, missing }).toEqual({ current: true, stale: false, missing: false });
  });

  it('is a draft-07 schema with an id, a title and a description, for the VS Code YAML extension', () => {
    // Act
    const schema = recipeJsonSchema();

    // Assess
    expect(schema).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: expect.any(String),
      title: 'ami-bake recipe',
      description: expect.stringContaining('docs/recipes.md'),
    });
  });

  it('requires only the fields without a default, so editors do not demand defaulted ones', () => {
    // Act
    const { required, properties } = committed as {
      required: string[];
      properties: Record<string, { required?: string[] }>;
    };

    // Assess
    expect(required).toEqual(['name', 'base', 'builder', 'bootstrap']);
    // The builder's size: exactly one of instanceType and requirements (a oneOf, not `required`).
    expect(properties.builder?.required).toBeUndefined();
    expect((properties.builder as { oneOf?: unknown }).oneOf).toEqual([
      { required: ['instanceType'] },
      { required: ['requirements'] },
    ]);
    expect(properties.bootstrap?.required).toBeUndefined();
    expect(properties.image?.required).toBeUndefined();
  });

  it.each([
    { what: 'recipes/example.yml', path: repoFile('recipes/example.yml') },
    { what: 'the minimal recipe', path: fixture('valid/minimal.yml') },
    { what: 'a recipe with a bootstrap file and volumes', path: fixture('valid/file-bootstrap.yml') },
    { what: 'recipes/example-scheduled.yml', path: repoFile('recipes/example-scheduled.yml') },
    { what: 'a recipe with a schedule and triggers', path: fixture('valid/scheduled.yml') },
  ])('accepts $what', ({ path }) => {
    // Prepare
    const recipe = readYaml(path);

    // Act
    const valid = validate(recipe);

    // Assess
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('rejects an unknown top-level field, naming it', () => {
    // Prepare
    const recipe = readYaml(fixture('invalid/unknown-top-level-field.yml'));

    // Act
    const valid = validate(recipe);

    // Assess
    expect(valid).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({
        keyword: 'additionalProperties',
        instancePath: '',
        params: { additionalProperty: 'imageName' },
      }),
    );
  });

  // What an editor flags as you type; the rest (listed in the schema's description) only the loader sees.
  it.each([
    'unknown-field-in-root-volume.yml',
    'unknown-field-in-ebs-volume.yml',
    'unknown-field-in-launch-permissions.yml',
    'missing-builder.yml',
    'root-size-as-string.yml',
    'root-size-fraction.yml',
    'bad-name.yml',
    'bad-instance-type.yml',
    'unknown-region.yml',
    'two-base-selectors.yml',
    'no-base-selector.yml',
    'filter-without-owners.yml',
    'filter-with-empty-owners.yml',
    'bad-account-id.yml',
    'bad-organization-arn.yml',
    'public-as-string.yml',
    'public-as-yes.yml',
    'script-and-file.yml',
    'no-user-data.yml',
    'zero-bootstrap-timeout.yml',
    'schedule-not-an-object.yml',
  ])('rejects invalid/%s, as the loader does', (file) => {
    // Prepare
    const recipe = readYaml(fixture(`invalid/${file}`));

    // Act
    const valid = validate(recipe);

    // Assess
    expect(valid).toBe(false);
  });
});
