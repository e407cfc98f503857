import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { BaseImageNotFoundError } from '../../../lib/errors.js';
import { bakeFailedDetail } from '../../../lib/events.js';
import { recipeHash } from '../../../lib/recipe/hash.js';
import {
  BAKE_ID,
  EXECUTION_ARN,
  runningAtWaitForBuilder,
  STATE_MACHINE_ARN,
  succeededInThreeRegions,
  webRecipe,
} from '../bakes/fixtures.js';
import { captureEmf } from '../emf.js';
import { awsError, NOW } from '../functions/fixtures.js';
import { api, apiEvent, CALLER, logged, serveBake } from './fixtures.js';

/** A Step Functions that remembers what it started, so a second request finds the first bake. */
function rememberingSfn(sfn: ReturnType<typeof api>['sfn']) {
  const started = new Map<string, string>();
  sfn.on(StartExecutionCommand).callsFake(async ({ name, input }) => {
    started.set(name, input);
    return { executionArn: `${STATE_MACHINE_ARN}:${name}`, startDate: NOW };
  });
  sfn.on(DescribeExecutionCommand).callsFake(async ({ executionArn }) => {
    const name = String(executionArn).split(':').at(-1) ?? '';
    const input = started.get(name);
    if (!input) throw awsError('ExecutionDoesNotExist');
    return { executionArn, name, status: 'RUNNING', startDate: NOW, input };
  });
}

describe('POST /bakes', () => {
  it('starts a bake through the start path and answers 202 with its id, execution and links', async () => {
    // Prepare
    const { call, sfn } = api();

    // Act
    const response = await call(
      apiEvent('POST', '/bakes', { body: { recipe: 'web', reason: 'CVE-2026-1' } }),
    );

    // Assess
    expect(response.statusCode).toBe(202);
    const bakeId = String(response.json.bakeId);
    expect(bakeId).toMatch(/^web_[0-9a-f]{12}_\d{14}[0-9a-f]{4}$/);
    expect(response.json).toEqual({
      bakeId,
      executionArn: expect.stringContaining(`:execution:ami-bake:${bakeId}`),
      status: 'started',
      recipe: 'web',
      links: { self: `/bakes/${bakeId}`, cancel: `/bakes/${bakeId}/cancel` },
    });
    expect(response.headers.location).toBe(`/bakes/${bakeId}`);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input.request).toEqual({ source: 'api', reason: 'CVE-2026-1' });
  });

  it('records the caller as the reason when none is given', async () => {
    // Prepare
    const { call, sfn } = api();

    // Act
    await call(apiEvent('POST', '/bakes', { body: { recipe: 'web' } }));

    // Assess
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input.request.reason).toBe(`API request by ${CALLER}`);
  });

  it('applies overrides to the bake it starts', async () => {
    // Prepare
    const { call, sfn } = api();

    // Act
    const response = await call(
      apiEvent('POST', '/bakes', {
        body: { recipe: 'web', overrides: { builder: { instanceType: 'm7g.large' } } },
      }),
    );

    // Assess
    expect(response.statusCode).toBe(202);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input).toMatchObject({ recipeName: 'web', overrides: { builder: { instanceType: 'm7g.large' } } });
  });

  it('returns the same bake, status existing, for a repeated Idempotency-Key', async () => {
    // Prepare
    const { call, sfn } = api();
    rememberingSfn(sfn);
    const request = () =>
      apiEvent('POST', '/bakes', { body: { recipe: 'web' }, headers: { 'idempotency-key': 'deploy-42' } });

    // Act
    const first = await call(request());
    const second = await call(request());

    // Assess
    expect(first.json).toMatchObject({ status: 'started' });
    expect(second.statusCode).toBe(202);
    expect(second.json).toMatchObject({ status: 'existing', bakeId: first.json.bakeId });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('answers 409 when an Idempotency-Key is reused with different overrides', async () => {
    // Prepare
    const { call, sfn } = api();
    rememberingSfn(sfn);
    const headers = { 'idempotency-key': 'deploy-42' };
    await call(apiEvent('POST', '/bakes', { body: { recipe: 'web' }, headers }));

    // Act
    const response = await call(
      apiEvent('POST', '/bakes', {
        body: { recipe: 'web', overrides: { builder: { instanceType: 'c7i.large' } } },
        headers,
      }),
    );

    // Assess
    expect(response.statusCode).toBe(409);
    expect(response.json.error).toBe('Conflict');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('answers 202 existing when a bake of the same content is already running', async () => {
    // Prepare
    const { call, sfn } = api();
    const first = await call(apiEvent('POST', '/bakes', { body: { recipe: 'web' } }));
    const running = String(first.json.bakeId);
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          name: running,
          executionArn: `${STATE_MACHINE_ARN}:${running}`,
          stateMachineArn: STATE_MACHINE_ARN,
          status: 'RUNNING',
          startDate: NOW,
        },
      ],
    });

    // Act
    const response = await call(apiEvent('POST', '/bakes', { body: { recipe: 'web' } }));

    // Assess
    expect(response.json).toMatchObject({ status: 'existing', bakeId: running });
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  it('answers 200 skipped with the existing images when nothing changed, and starts nothing', async () => {
    // Prepare
    const images = {
      'us-east-1': { imageId: 'ami-0123456789abcdef1', snapshotIds: ['snap-0123456789abcdef1'] },
    };
    const { call, sfn, imagesWithContentKey, skipped } = api();
    imagesWithContentKey.mockResolvedValue(images as never);
    const emf = captureEmf();

    // Act
    const response = await call(apiEvent('POST', '/bakes', { body: { recipe: 'web' } }));
    const emitted = emf.summary();
    emf.stop();

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({
      status: 'skipped',
      recipe: 'web',
      contentKey: expect.stringMatching(/^[0-9a-f]{64}$/),
      images,
    });
    expect(skipped).toHaveLength(1);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(emitted.filter((m) => m.name === 'BakesSkipped')).toEqual([
      { name: 'BakesSkipped', dims: [], value: 1, values: {} },
      { name: 'BakesSkipped', dims: ['recipe'], value: 1, values: { recipe: 'web' } },
    ]);
  });

  it('bakes anyway with force: true even when the images exist', async () => {
    // Prepare
    const { call, imagesWithContentKey } = api();
    imagesWithContentKey.mockResolvedValue({ 'us-east-1': { imageId: 'ami-1', snapshotIds: [] } } as never);

    // Act
    const response = await call(apiEvent('POST', '/bakes', { body: { recipe: 'web', force: true } }));

    // Assess
    expect(response.json.status).toBe('started');
    expect(imagesWithContentKey).not.toHaveBeenCalled();
  });

  it('accepts JSON with a charset, base64-encoded, or with no content type at all', async () => {
    // Prepare
    const { call } = api();
    const body = JSON.stringify({ recipe: 'web' });

    // Act
    const responses = await Promise.all([
      call(
        apiEvent('POST', '/bakes', { body, headers: { 'content-type': 'application/json; charset=utf-8' } }),
      ),
      call(apiEvent('POST', '/bakes', { body, base64: true })),
      call({ ...apiEvent('POST', '/bakes', { body }), headers: {} }),
    ]);

    // Assess
    expect(responses.map((r) => r.statusCode)).toEqual([202, 202, 202]);
  });
});

describe('errors of the start path', () => {
  it.each([
    {
      name: 'an unknown recipe is 404 NotFound',
      body: { recipe: 'nope' },
      status: 404,
      error: 'NotFound',
    },
    {
      name: 'a recipe whose base image cannot be found is 422 BaseImageNotFound',
      body: { recipe: 'web' },
      resolveBase: () => Promise.reject(new BaseImageNotFoundError('no image matches /aws/service/x')),
      status: 422,
      error: 'BaseImageNotFound',
    },
    {
      name: 'a throttled AWS call is 503 ServiceUnavailable',
      body: { recipe: 'web' },
      resolveBase: () => Promise.reject(awsError('ThrottlingException', 'Rate exceeded')),
      status: 503,
      error: 'ServiceUnavailable',
    },
    {
      name: 'an AWS call refused is 502 BadGateway',
      body: { recipe: 'web' },
      resolveBase: () => Promise.reject(awsError('AccessDeniedException', 'not authorized')),
      status: 502,
      error: 'BadGateway',
    },
    {
      name: 'a bug is 500 InternalError, with no detail',
      body: { recipe: 'web' },
      resolveBase: () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'x')")),
      status: 500,
      error: 'InternalError',
    },
  ])('$name', async ({ body, resolveBase, status, error }) => {
    // Prepare
    const { call, deps, sfn } = api();
    if (resolveBase) deps.start.resolveBase = resolveBase;

    // Act
    const response = await call(apiEvent('POST', '/bakes', { body }));

    // Assess
    expect(response.statusCode).toBe(status);
    expect(response.json.error).toBe(error);
    expect(response.json.message).not.toContain('reading');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('logs server-side failures as errors and refusals only as info', async () => {
    // Prepare
    const { call, deps } = api();
    deps.start.resolveBase = () => Promise.reject(new TypeError('boom'));
    logged.error.mockClear();

    // Act
    await call(apiEvent('POST', '/bakes', { body: { recipe: 'web' } }));
    await call(apiEvent('POST', '/bakes', { body: { recipe: 'Bad' } }));

    // Assess
    expect(logged.error).toHaveBeenCalledTimes(1);
    expect(logged.error).toHaveBeenCalledWith('request failed', expect.objectContaining({ status: 500 }));
  });

  it('answers 503 with Retry-After when StartExecution is throttled', async () => {
    // Prepare
    const { call, sfn } = api();
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException'));

    // Act
    const response = await call(apiEvent('POST', '/bakes', { body: { recipe: 'web' } }));

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('2');
  });
});

describe('GET /bakes/{bakeId}', () => {
  it('answers the summary of the bake with links', async () => {
    // Prepare
    const { call, sfn } = api();
    serveBake(sfn, runningAtWaitForBuilder());

    // Act
    const response = await call(apiEvent('GET', `/bakes/${BAKE_ID}`));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({
      bakeId: BAKE_ID,
      executionArn: EXECUTION_ARN,
      recipe: 'web',
      status: 'RUNNING',
      stage: 'WaitForBuilder',
      links: { self: `/bakes/${BAKE_ID}`, cancel: `/bakes/${BAKE_ID}/cancel` },
    });
  });

  it('answers 404 NotFound for a well-formed bake id with no execution', async () => {
    // Prepare
    const { call } = api();

    // Act
    const response = await call(apiEvent('GET', '/bakes/web_doesnotexist01'));

    // Assess
    expect(response.statusCode).toBe(404);
    expect(response.json).toEqual({ error: 'NotFound', message: 'no bake web_doesnotexist01' });
  });
});

describe('GET /bakes', () => {
  const listed = (name: string, minute: number, status = 'SUCCEEDED') => ({
    name,
    executionArn: `${STATE_MACHINE_ARN}:${name}`,
    stateMachineArn: STATE_MACHINE_ARN,
    status: status as never,
    startDate: new Date(Date.UTC(2026, 10, 26, 5, minute)),
  });

  it('lists recent bakes newest first, 20 by default, with links', async () => {
    // Prepare
    const { call, sfn } = api();
    sfn.on(ListExecutionsCommand).resolves({
      executions: [listed('web_bbbbbbbbbbbb_1', 2), listed('worker_aaaaaaaaaaaa_1', 1)],
    });

    // Act
    const response = await call(apiEvent('GET', '/bakes'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json.bakes).toEqual([
      expect.objectContaining({ bakeId: 'web_bbbbbbbbbbbb_1', recipe: 'web', links: expect.any(Object) }),
      expect.objectContaining({ bakeId: 'worker_aaaaaaaaaaaa_1', recipe: 'worker', status: 'SUCCEEDED' }),
    ]);
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      maxResults: 20,
    });
  });

  it('passes the status filter to Step Functions and filters by recipe across pages', async () => {
    // Prepare
    const { call, sfn } = api();
    sfn
      .on(ListExecutionsCommand, { nextToken: undefined })
      .resolves({ executions: [listed('web-api_cccccccccccc_1', 9, 'FAILED')], nextToken: 'p2' })
      .on(ListExecutionsCommand, { nextToken: 'p2' })
      .resolves({ executions: [listed('web_dddddddddddd_1', 8, 'FAILED')] });

    // Act
    const response = await call(apiEvent('GET', '/bakes', { query: 'recipe=web&status=FAILED&limit=5' }));

    // Assess
    expect((response.json.bakes as { bakeId: string }[]).map((b) => b.bakeId)).toEqual([
      'web_dddddddddddd_1',
    ]);
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, { statusFilter: 'FAILED' });
  });
});

describe('POST /bakes/{bakeId}/cancel', () => {
  it('stops the bake, cleans up, publishes Bake Failed and answers 202 ABORTED', async () => {
    // Prepare
    const { call, sfn, cleanup, published } = api();
    serveBake(sfn, runningAtWaitForBuilder());

    // Act
    const response = await call(
      apiEvent('POST', `/bakes/${BAKE_ID}/cancel`, { body: { reason: 'wrong branch' } }),
    );

    // Assess
    expect(response.statusCode).toBe(202);
    expect(response.json).toMatchObject({
      bakeId: BAKE_ID,
      status: 'ABORTED',
      stage: 'WaitForBuilder',
      eventPublished: true,
      cleanup: { problems: [] },
    });
    expect(sfn).toHaveReceivedCommandWith(StopExecutionCommand, {
      executionArn: EXECUTION_ARN,
      error: 'BakeCancelled',
      cause: `cancelled through the API by ${CALLER}: wrong branch`,
    });
    expect(cleanup).toHaveBeenCalledWith({
      bakeId: BAKE_ID,
      regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
    });
    expect(bakeFailedDetail.parse(published[0])).toMatchObject({
      bakeId: BAKE_ID,
      recipe: { name: 'web', hash: recipeHash(webRecipe) },
      stage: 'WaitForBuilder',
      error: 'BakeCancelled',
      finishedAt: NOW.toISOString(),
    });
  });

  it('answers 409 Conflict for a bake that already ended, and stops nothing', async () => {
    // Prepare
    const { call, sfn, cleanup } = api();
    serveBake(sfn, succeededInThreeRegions());

    // Act
    const response = await call(apiEvent('POST', `/bakes/${BAKE_ID}/cancel`));

    // Assess
    expect(response.statusCode).toBe(409);
    expect(response.json).toEqual({ error: 'Conflict', message: `bake ${BAKE_ID} already ended: SUCCEEDED` });
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(cleanup).not.toHaveBeenCalled();
  });

  it('answers 404 NotFound for an unknown bake', async () => {
    // Prepare
    const { call, sfn } = api();

    // Act
    const response = await call(apiEvent('POST', '/bakes/web_doesnotexist01/cancel'));

    // Assess
    expect(response.statusCode).toBe(404);
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
  });
});
