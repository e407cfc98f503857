import { describe, expect, it } from 'vitest';
import { startBakeInputSchema, toStartRequest, toStartRequests } from '../../../functions/start-bake/core.js';
import type { BakeSkippedDetail } from '../../../lib/events.js';
import type { CatalogEntry } from '../../../lib/recipe/catalog.js';
import { parseRecipe } from '../../../lib/recipe/load.js';
import type { ExecutionRef } from '../../../lib/start/executions.js';
import { type StartDeps, startBake } from '../../../lib/start/start-bake.js';
import type { ResolvedRecipe } from '../../../lib/state.js';
import { baseImage as base } from '../../fixtures/base-image.js';
import { FakeExecutions } from './fakes.js';

async function recipe(extra: Record<string, unknown> = {}): Promise<ResolvedRecipe> {
  const r = await parseRecipe(
    {
      ...extra,
      name: 'web',
      base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
      builder: { instanceType: 't3.micro' },
      bootstrap: { script: 'echo hi' },
      distribution: { regions: ['eu-west-1'] },
      ...extra,
    },
    process.cwd(),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.recipe;
}

async function setup(
  o: { images?: boolean; existing?: ExecutionRef[]; recipe?: Record<string, unknown> } = {},
) {
  const catalog: CatalogEntry[] = [{ file: 'recipes/web.yml', recipe: await recipe(o.recipe) }];
  const executions = new FakeExecutions(o.existing);
  const skipped: BakeSkippedDetail[] = [];
  const deps: StartDeps = {
    catalog,
    buildRegion: 'us-east-1',
    resolveBase: async () => base,
    imagesWithContentKey: async (_key, regions) =>
      o.images
        ? Object.fromEntries(regions.map((r) => [r, { imageId: `ami-${r}`, snapshotIds: [] }]))
        : undefined,
    executions,
    publishSkipped: async (d) => {
      skipped.push(d);
    },
    now: () => new Date('2026-11-26T05:00:00Z'),
  };
  return { deps, executions, skipped };
}

describe('startBake', () => {
  it('starts an execution named after the recipe and content key, with the recipe name as input', async () => {
    // Prepare
    const { deps, executions } = await setup();

    // Act
    const result = await startBake({ recipe: 'web', source: 'api' }, deps);

    // Assess
    expect(result).toMatchObject({ status: 'started', recipe: 'web' });
    expect(executions.started).toHaveLength(1);
    const [started] = executions.started;
    expect(started?.name).toMatch(/^web_[0-9a-f]{12}_20261126050000[0-9a-f]{4}$/);
    expect(started?.name.length).toBeLessThanOrEqual(80);
    expect(started?.input).toMatchObject({
      bakeId: started?.name,
      recipeName: 'web',
      request: { source: 'api' },
    });
  });

  it('skips, publishing Bake Skipped and starting nothing, when images with the content key exist everywhere', async () => {
    // Prepare
    const { deps, executions, skipped } = await setup({ images: true });

    // Act
    const result = await startBake({ recipe: 'web', source: 'schedule', reason: 'nightly' }, deps);

    // Assess
    expect(result).toMatchObject({
      status: 'skipped',
      images: { 'us-east-1': { imageId: 'ami-us-east-1' }, 'eu-west-1': {} },
    });
    expect(executions.started).toEqual([]);
    expect(skipped).toEqual([
      expect.objectContaining({ source: 'schedule', reason: 'nightly', base: { imageId: base.imageId } }),
    ]);
  });

  it('bakes anyway with force: true even when the images exist', async () => {
    // Prepare
    const { deps, executions, skipped } = await setup({
      images: true,
      recipe: { overrides: { force: true } },
    });

    // Act
    const result = await startBake({ recipe: 'web', source: 'api', force: true }, deps);

    // Assess
    expect(result.status).toBe('started');
    expect(executions.started).toHaveLength(1);
    expect(skipped).toEqual([]);
  });

  it('bakes for a trigger declared with force: true even when the images exist, and skips for one without', async () => {
    // Prepare
    const triggers = [
      { name: 'app-release', pattern: { source: ['acme.ci'] }, force: true },
      { name: 'base-release', pattern: { source: ['aws.ssm'] } },
    ];
    const { deps, executions } = await setup({ images: true, recipe: { triggers } });

    // Act
    const forced = await startBake({ recipe: 'web', source: 'trigger', trigger: 'app-release' }, deps);
    const skipped = await startBake({ recipe: 'web', source: 'trigger', trigger: 'base-release' }, deps);

    // Assess
    expect(forced.status).toBe('started');
    expect(skipped.status).toBe('skipped');
    expect(executions.started).toHaveLength(1);
  });

  it('returns the running bake with the same content instead of starting a twin', async () => {
    // Prepare
    const { deps, executions } = await setup();
    const first = await startBake({ recipe: 'web', source: 'api' }, deps);

    // Act
    const second = await startBake({ recipe: 'web', source: 'event' }, deps);

    // Assess
    expect(second).toMatchObject({ status: 'existing', bakeId: (first as { bakeId: string }).bakeId });
    expect(executions.started).toHaveLength(1);
  });

  it('never starts a scheduled bake while any bake of the recipe runs, whatever its content', async () => {
    // Prepare
    const running = { name: 'web_0123456789ab_202611260400001234', executionArn: 'arn:x', status: 'RUNNING' };
    const { deps, executions } = await setup({ existing: [running] });

    // Act
    const result = await startBake({ recipe: 'web', source: 'schedule' }, deps);

    // Assess
    expect(result).toMatchObject({ status: 'existing', bakeId: running.name });
    expect(executions.started).toEqual([]);
  });

  it('does not confuse a recipe with another whose name it prefixes', async () => {
    // Prepare
    const other = {
      name: 'web-api_0123456789ab_202611260400001234',
      executionArn: 'arn:x',
      status: 'RUNNING',
    };
    const { deps, executions } = await setup({ existing: [other] });

    // Act
    const result = await startBake({ recipe: 'web', source: 'schedule' }, deps);

    // Assess
    expect(result.status).toBe('started');
    expect(executions.started).toHaveLength(1);
  });

  it('returns the bake of an idempotency key for the same request, even after it ended', async () => {
    // Prepare
    const { deps, executions } = await setup();
    const first = (await startBake({ recipe: 'web', source: 'api', idempotencyKey: 'deploy-7' }, deps)) as {
      bakeId: string;
    };
    (executions.started[0] as ExecutionRef).status = 'SUCCEEDED';

    // Act
    const again = await startBake({ recipe: 'web', source: 'api', idempotencyKey: 'deploy-7' }, deps);

    // Assess
    expect(again).toMatchObject({ status: 'existing', bakeId: first.bakeId });
    expect(executions.started).toHaveLength(1);
  });

  it('answers a retried keyed request with its bake, not a skip, once that bake has made the images', async () => {
    // Prepare
    const { deps, executions } = await setup();
    const first = (await startBake({ recipe: 'web', source: 'api', idempotencyKey: 'deploy-8' }, deps)) as {
      bakeId: string;
    };
    deps.imagesWithContentKey = async (_key, regions) =>
      Object.fromEntries(regions.map((r) => [r, { imageId: `ami-${r}`, snapshotIds: [] }]));

    // Act
    const retried = await startBake({ recipe: 'web', source: 'api', idempotencyKey: 'deploy-8' }, deps);

    // Assess
    expect(retried).toMatchObject({ status: 'existing', bakeId: first.bakeId });
    expect(executions.started).toHaveLength(1);
  });

  it('refuses an idempotency key reused with different overrides (IdempotencyConflictError)', async () => {
    // Prepare
    const { deps } = await setup({ recipe: { overrides: { instanceTypes: ['t3.large'] } } });
    await startBake({ recipe: 'web', source: 'api', idempotencyKey: 'deploy-7' }, deps);

    // Act
    const reused = startBake(
      {
        recipe: 'web',
        source: 'api',
        idempotencyKey: 'deploy-7',
        overrides: { builder: { instanceType: 't3.large' } },
      },
      deps,
    );

    // Assess
    await expect(reused).rejects.toMatchObject({ name: 'IdempotencyConflictError' });
  });

  it('refuses an unknown recipe with RecipeNotFoundError', async () => {
    // Prepare
    const { deps, executions } = await setup();

    // Act
    const result = startBake({ recipe: 'nope', source: 'api' }, deps);

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'RecipeNotFoundError' });
    expect(executions.started).toEqual([]);
  });

  it('names every bad override with its overrides.… path and starts nothing', async () => {
    // Prepare
    const { deps, executions } = await setup();

    // Act
    const result = startBake(
      {
        recipe: 'web',
        source: 'api',
        overrides: { builder: { instanceType: 'huge' }, distribution: { regions: ['mars-1'] } },
      },
      deps,
    );

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'RecipeInvalidError',
      problems: [
        { path: 'overrides.builder.instanceType', message: expect.stringContaining('instance type') },
        { path: 'overrides.distribution.regions.0', message: expect.stringContaining('unknown AWS region') },
      ],
    });
    expect(executions.started).toEqual([]);
  });
});

describe('toStartRequest', () => {
  it('turns a Bake Requested event into an event-sourced request with its key, overrides and force', () => {
    // Act
    const request = toStartRequest({
      'detail-type': 'Bake Requested',
      source: 'ci.pipeline',
      detail: { recipe: 'web', idempotencyKey: 'k', force: true, overrides: { image: { tags: { a: 'b' } } } },
    });

    // Assess
    expect(request).toEqual({
      recipe: 'web',
      source: 'event',
      idempotencyKey: 'k',
      force: true,
      overrides: { image: { tags: { a: 'b' } } },
      reason: 'Bake Requested by ci.pipeline',
    });
  });

  it('names the trigger and the triggering event in the reason of a trigger request', () => {
    // Act
    const request = toStartRequest({
      recipe: 'web',
      source: 'trigger',
      trigger: 'base-image-released',
      event: { id: 'e-1', source: 'aws.ssm', 'detail-type': 'Parameter Store Change' },
    });

    // Assess
    expect(request.reason).toBe('trigger base-image-released (aws.ssm Parameter Store Change e-1)');
  });
});

describe('toStartRequests: an SNS message', () => {
  const AL2023 = 'arn:aws:sns:us-east-1:137112412989:amazon-linux-2023-ami-updates';
  /** What Lambda receives from an SNS subscription (one record per invocation). */
  const snsEvent = (topicArn: string) =>
    startBakeInputSchema.parse({
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: `${topicArn}:0b1c2d3e`,
          Sns: {
            Type: 'Notification',
            MessageId: 'm-1',
            TopicArn: topicArn,
            Subject: null,
            Message: '{"v":"1","type":"new-ami"}',
            Timestamp: '2026-11-26T04:00:00.000Z',
          },
        },
      ],
    });

  async function catalog(): Promise<CatalogEntry[]> {
    const entry = async (name: string, triggers: unknown[]) => ({
      file: `recipes/${name}.yml`,
      recipe: { ...(await recipe({ triggers })), name },
    });
    return [
      await entry('web', [{ name: 'al2023-released', sns: AL2023 }]),
      await entry('api', [{ name: 'new-base', sns: AL2023, force: true }]),
      await entry('other', [
        { name: 'al2-released', sns: 'arn:aws:sns:us-east-1:137112412989:amazon-linux-2-ami-updates' },
      ]),
    ];
  }

  it("starts a trigger request for every recipe with an sns trigger on the message's topic", async () => {
    // Act
    const requests = toStartRequests(snsEvent(AL2023), await catalog());

    // Assess
    expect(requests).toEqual([
      {
        recipe: 'web',
        source: 'trigger',
        trigger: 'al2023-released',
        reason: `trigger al2023-released (sns ${AL2023} m-1)`,
      },
      {
        recipe: 'api',
        source: 'trigger',
        trigger: 'new-base',
        reason: `trigger new-base (sns ${AL2023} m-1)`,
      },
    ]);
  });

  it('starts nothing for a topic no recipe listens to', async () => {
    // Act
    const requests = toStartRequests(
      snsEvent('arn:aws:sns:eu-west-1:123456789012:unrelated'),
      await catalog(),
    );

    // Assess
    expect(requests).toEqual([]);
  });

  it('passes any other event on as one request', async () => {
    // Act
    const requests = toStartRequests(startBakeInputSchema.parse({ recipe: 'web', source: 'schedule' }), []);

    // Assess
    expect(requests).toEqual([{ recipe: 'web', source: 'schedule', reason: 'schedule' }]);
  });
});
