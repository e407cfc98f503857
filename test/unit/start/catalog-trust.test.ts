import { describe, expect, it } from 'vitest';
import { resolveFromCatalog } from '../../../functions/resolve-recipe/catalog.js';
import type { CatalogEntry } from '../../../lib/recipe/catalog.js';
import { parseRecipe } from '../../../lib/recipe/load.js';
import type { ExecutionRef } from '../../../lib/start/executions.js';
import { type StartDeps, startBake } from '../../../lib/start/start-bake.js';
import type { BakeContext, ResolvedRecipe } from '../../../lib/state.js';
import { baseImage as base } from '../../fixtures/base-image.js';
import { FakeExecutions } from './fakes.js';

async function recipe(extra: Record<string, unknown> = {}): Promise<ResolvedRecipe> {
  const r = await parseRecipe(
    {
      name: 'web',
      base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
      builder: { instanceType: 't3.micro' },
      bootstrap: { script: 'echo hi', timeoutMinutes: 30 },
      distribution: { regions: ['eu-west-1', 'ap-southeast-2'] },
      ...extra,
    },
    process.cwd(),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.recipe;
}

async function setup(
  o: { recipe?: Record<string, unknown>; existing?: ExecutionRef[]; limits?: StartDeps['limits'] } = {},
) {
  const catalog: CatalogEntry[] = [{ file: 'recipes/web.yml', recipe: await recipe(o.recipe) }];
  const executions = new FakeExecutions(o.existing);
  const deps: StartDeps = {
    catalog,
    buildRegion: 'us-east-1',
    resolveBase: async () => base,
    imagesWithContentKey: async () => undefined,
    executions,
    publishSkipped: async () => undefined,
    now: () => new Date('2026-11-26T05:00:00Z'),
    ...(o.limits ? { limits: o.limits } : {}),
  };
  return { deps, executions, catalog };
}

const POLICY = {
  overrides: {
    instanceTypes: ['t3.large', 'm7i.large'],
    maxBootstrapMinutes: 90,
    regions: ['us-west-2'],
    subnetIds: ['subnet-0123456789abcdef0'],
    securityGroupIds: ['sg-0123456789abcdef0'],
    force: true,
  },
};

describe('the start path trusts only the catalog', () => {
  it('starts the execution with the recipe name and overrides, never the recipe itself', async () => {
    // Prepare
    const { deps, executions } = await setup({ recipe: POLICY });

    // Act
    await startBake(
      { recipe: 'web', source: 'api', overrides: { builder: { instanceType: 't3.large' } } },
      deps,
    );

    // Assess
    const input = executions.started[0]?.input as Record<string, unknown>;
    expect(input).toEqual({
      bakeId: executions.started[0]?.name,
      recipeName: 'web',
      overrides: { builder: { instanceType: 't3.large' } },
      request: { source: 'api' },
    });
    expect(input).not.toHaveProperty('recipe');
  });

  it.each([
    {
      what: 'an instance type',
      overrides: { builder: { instanceType: 'x2iedn.32xlarge' } },
      path: 'overrides.builder.instanceType',
    },
    {
      what: 'a subnet',
      overrides: { builder: { subnetId: 'subnet-0fffffffffffffff0' } },
      path: 'overrides.builder.subnetId',
    },
    {
      what: 'a security group',
      overrides: { builder: { securityGroupIds: ['sg-0fffffffffffffff0'] } },
      path: 'overrides.builder.securityGroupIds.0',
    },
    {
      what: 'a longer bootstrap budget',
      overrides: { bootstrap: { timeoutMinutes: 600 } },
      path: 'overrides.bootstrap.timeoutMinutes',
    },
    {
      what: 'a region the recipe does not bake to',
      overrides: { distribution: { regions: ['sa-east-1'] } },
      path: 'overrides.distribution.regions.0',
    },
  ])(
    'refuses $what a recipe without an overrides policy does not allow, naming the field',
    async ({ overrides, path }) => {
      // Prepare
      const { deps, executions } = await setup();

      // Act
      const result = startBake({ recipe: 'web', source: 'api', overrides }, deps);

      // Assess
      await expect(result).rejects.toMatchObject({
        name: 'RecipeInvalidError',
        problems: [{ path, message: expect.stringContaining('recipe') }],
      });
      expect(executions.started).toEqual([]);
    },
  );

  it.each([
    { what: 'a declared instance type', overrides: { builder: { instanceType: 'm7i.large' } } },
    { what: 'a declared subnet', overrides: { builder: { subnetId: 'subnet-0123456789abcdef0' } } },
    { what: 'a budget up to the maximum', overrides: { bootstrap: { timeoutMinutes: 90 } } },
    { what: 'a declared extra region', overrides: { distribution: { regions: ['eu-west-1', 'us-west-2'] } } },
  ])("accepts $what within the recipe's bounds", async ({ overrides }) => {
    // Prepare
    const { deps, executions } = await setup({ recipe: POLICY });

    // Act
    await startBake({ recipe: 'web', source: 'api', overrides }, deps);

    // Assess
    expect(executions.started).toHaveLength(1);
  });

  it.each([
    { what: 'a shorter bootstrap budget', overrides: { bootstrap: { timeoutMinutes: 10 } } },
    { what: 'fewer of its own regions', overrides: { distribution: { regions: ['eu-west-1'] } } },
    {
      what: 'a description and tags',
      overrides: { image: { description: 'hotfix', tags: { ticket: 'OPS-1' } } },
    },
  ])('accepts $what without any policy: it cannot widen what the recipe does', async ({ overrides }) => {
    // Prepare
    const { deps, executions } = await setup();

    // Act
    await startBake({ recipe: 'web', source: 'api', overrides }, deps);

    // Assess
    expect(executions.started).toHaveLength(1);
  });

  it('refuses force unless the recipe allows it, naming the field', async () => {
    // Prepare
    const { deps, executions } = await setup();

    // Act
    const result = startBake({ recipe: 'web', source: 'api', force: true }, deps);

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'RecipeInvalidError',
      problems: [{ path: 'force', message: expect.stringContaining('overrides.force') }],
    });
    expect(executions.started).toEqual([]);
  });

  it('refuses a new bake when the recipe already has its maximum of running bakes', async () => {
    // Prepare
    const running = (name: string) => ({ name, executionArn: name, status: 'RUNNING' });
    const { deps, executions } = await setup({
      recipe: POLICY,
      existing: [running('web_aaaaaaaaaaaa_1'), running('web_bbbbbbbbbbbb_2')],
      limits: { perRecipe: 2, perStack: 10 },
    });

    // Act
    const result = startBake({ recipe: 'web', source: 'api', force: true }, deps);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'TooManyBakesError' });
    expect(executions.started).toEqual([]);
  });

  it('refuses a new bake when the stack already runs its maximum of bakes, of any recipe', async () => {
    // Prepare
    const running = (name: string) => ({ name, executionArn: name, status: 'RUNNING' });
    const { deps, executions } = await setup({
      existing: [
        running('other_aaaaaaaaaaaa_1'),
        running('db_bbbbbbbbbbbb_2'),
        running('api_cccccccccccc_3'),
      ],
      limits: { perRecipe: 2, perStack: 3 },
    });

    // Act
    const result = startBake({ recipe: 'web', source: 'api' }, deps);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'TooManyBakesError' });
    expect(executions.started).toEqual([]);
  });
});

describe('ResolveRecipe trusts only the catalog', () => {
  const context = { bakeId: 'web_k0123456789' } as BakeContext;
  const resolve = async (r: { recipe: ResolvedRecipe }) => ({ ...context, recipeName: r.recipe.name });

  it('loads the recipe by name and keeps it in the state for later states', async () => {
    // Prepare
    const { catalog } = await setup({ recipe: POLICY });

    // Act
    const state = await resolveFromCatalog(
      { bakeId: 'web_k0123456789', recipeName: 'web', overrides: { builder: { instanceType: 't3.large' } } },
      { catalog, resolve },
    );

    // Assess
    expect(state.recipe.builder.instanceType).toBe('t3.large');
    expect(state.recipe.bootstrap.script).toBe(catalog[0]?.recipe.bootstrap.script);
    expect(state.context).toMatchObject({ recipeName: 'web' });
  });

  it('refuses a recipe that is not in the catalog (RecipeNotFoundError)', async () => {
    // Prepare
    const { catalog } = await setup();

    // Act
    const result = resolveFromCatalog({ bakeId: 'x_k0123456789', recipeName: 'evil' }, { catalog, resolve });

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'RecipeNotFoundError' });
  });

  it("refuses an override outside the recipe's bounds, naming the field", async () => {
    // Prepare
    const { catalog } = await setup();

    // Act
    const result = resolveFromCatalog(
      {
        bakeId: 'web_k0123456789',
        recipeName: 'web',
        overrides: { builder: { instanceType: 'p5.48xlarge' } },
      },
      { catalog, resolve },
    );

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'RecipeInvalidError',
      problems: [{ path: 'overrides.builder.instanceType' }],
    });
  });
});
