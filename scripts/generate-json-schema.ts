/**
 * Writes docs/recipe.schema.json from the zod recipe schema, so editors complete and check recipes
 * (`# yaml-language-server: $schema=../docs/recipe.schema.json`). The zod schema stays the one source
 * of truth; this file is generated, committed, and compared in test/unit/recipe/json-schema.test.ts.
 *
 *   npm run schema              write the file
 *   npm run schema -- --check   exit 1 if the committed file is out of date
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { baseSchema, bootstrapSchema, builderSchema, recipeSchema } from '../lib/recipe/schema.js';

export const RECIPE_SCHEMA_PATH = fileURLToPath(new URL('../docs/recipe.schema.json', import.meta.url));

/** Exactly one of these keys: zod checks it in a refinement, which JSON Schema cannot see unless told. */
const exactlyOne = (keys: readonly string[]) => ({ oneOf: keys.map((k) => ({ required: [k] })) });

export function recipeJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(recipeSchema, {
    // Draft-07: the VS Code YAML extension (yaml-language-server) fully supports draft-07 only.
    target: 'draft-07',
    // The recipe as written: fields with a default are optional, not required.
    io: 'input',
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema === baseSchema)
        Object.assign(jsonSchema, exactlyOne(['imageId', 'ssmParameter', 'filter']));
      if (zodSchema === bootstrapSchema) Object.assign(jsonSchema, exactlyOne(['script', 'file']));
      if (zodSchema === builderSchema)
        Object.assign(jsonSchema, exactlyOne(['instanceType', 'requirements']));
    },
  });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: 'urn:ami-bake:recipe',
    title: 'ami-bake recipe',
    description:
      'An AMI recipe for ami-bake: base image, builder, bootstrap user data, image name and tags, distribution. ' +
      'Generated from lib/recipe/schema.ts by `npm run schema`. Some rules are checked only when a recipe is loaded ' +
      '(reserved tag prefixes, duplicate regions, kmsKeyIds regions, image name tokens, cloud-config on windows, ' +
      'the 16 KB user-data limit). ' +
      'Reference: docs/recipes.md.',
    ...rest,
  };
}

/** The file's exact text: pretty, with a trailing newline. */
export function renderRecipeJsonSchema(): string {
  return `${JSON.stringify(recipeJsonSchema(), null, 2)}\n`;
}

/** True if the file holds exactly what `npm run schema` would write (false if it is missing). */
export async function isRecipeJsonSchemaCurrent(path = RECIPE_SCHEMA_PATH): Promise<boolean> {
  const committed = await readFile(path, 'utf8').catch(() => undefined);
  return committed === renderRecipeJsonSchema();
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--check')) {
    if (await isRecipeJsonSchemaCurrent()) return 0;
    console.error(`${RECIPE_SCHEMA_PATH} is out of date with lib/recipe/schema.ts: run npm run schema`);
    return 1;
  }
  await writeFile(RECIPE_SCHEMA_PATH, renderRecipeJsonSchema());
  console.log(`wrote ${RECIPE_SCHEMA_PATH}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
