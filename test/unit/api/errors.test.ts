import { describe, expect, it } from 'vitest';
import { toHttpError } from '../../../functions/api/errors.js';
import {
  BakeNotFoundError,
  BakeNotRunningError,
  BaseImageNotFoundError,
  EventNotPublishedError,
  IdempotencyConflictError,
  RecipeInvalidError,
  RecipeNotFoundError,
} from '../../../lib/errors.js';
import { awsError } from '../functions/fixtures.js';
import { api, apiEvent, logged } from './fixtures.js';

describe('toHttpError', () => {
  it.each([
    {
      error: new RecipeInvalidError('bad', [{ path: 'overrides.x', message: 'm' }]),
      status: 400,
      name: 'BadRequest',
    },
    { error: new RecipeNotFoundError('no recipe'), status: 404, name: 'NotFound' },
    { error: new BakeNotFoundError('no bake'), status: 404, name: 'NotFound' },
    { error: new IdempotencyConflictError('used'), status: 409, name: 'Conflict' },
    { error: new BakeNotRunningError('ended'), status: 409, name: 'Conflict' },
    { error: new BaseImageNotFoundError('none'), status: 422, name: 'BaseImageNotFound' },
    { error: new EventNotPublishedError('Bake Skipped: x'), status: 502, name: 'BadGateway' },
    { error: awsError('ThrottlingException'), status: 503, name: 'ServiceUnavailable' },
    { error: awsError('RequestLimitExceeded'), status: 503, name: 'ServiceUnavailable' },
    {
      error: Object.assign(awsError('InternalFailure'), { $fault: 'server' }),
      status: 503,
      name: 'ServiceUnavailable',
    },
    { error: awsError('AccessDeniedException'), status: 502, name: 'BadGateway' },
    { error: awsError('StateMachineDoesNotExist'), status: 502, name: 'BadGateway' },
    { error: new TypeError('x is undefined'), status: 500, name: 'InternalError' },
    { error: 'a string thrown', status: 500, name: 'InternalError' },
  ])('maps $error.name to $status $name', ({ error, status, name }) => {
    // Act
    const http = toHttpError(error);

    // Assess
    expect(http.status).toBe(status);
    expect(http.body.error).toBe(name);
  });

  it('keeps the problems of an invalid recipe, or names the body when there are none', () => {
    // Act
    const withProblems = toHttpError(new RecipeInvalidError('x', [{ path: 'overrides.a', message: 'bad' }]));
    const without = toHttpError(new RecipeInvalidError('the recipe is broken'));

    // Assess
    expect(withProblems.body.problems).toEqual([{ path: 'overrides.a', message: 'bad' }]);
    expect(without.body.problems).toEqual([{ path: '(body)', message: 'the recipe is broken' }]);
  });
});

describe('an AWS failure behind the API', () => {
  const ARN_MESSAGE =
    'User: arn:aws:sts::123456789012:assumed-role/ami-bake-api-role/ami-bake-api is not authorized to perform: states:StartExecution on resource: arn:aws:states:us-east-1:123456789012:stateMachine:ami-bake';

  it.each([
    { name: 'a refused AWS call', error: awsError('AccessDeniedException', ARN_MESSAGE) },
    {
      name: 'an event that could not be published',
      error: new EventNotPublishedError(`Bake Skipped: AccessDeniedException ${ARN_MESSAGE}`),
    },
  ])('answers $name with a generic 502 naming the request id, never AWS message', ({ error }) => {
    // Act
    const http = toHttpError(error, 'req-42');

    // Assess
    expect(http.status).toBe(502);
    expect(http.body.message).not.toMatch(/arn:|\d{12}|role/);
    expect(http.body.message).toContain('req-42');
    expect(http.body.requestId).toBe('req-42');
  });

  it('logs the detail the answer leaves out', async () => {
    // Prepare
    const { call, deps } = api();
    deps.start.resolveBase = () => Promise.reject(awsError('AccessDeniedException', ARN_MESSAGE));
    logged.error.mockClear();

    // Act
    const response = await call(apiEvent('POST', '/bakes', { body: { recipe: 'web' } }));

    // Assess
    expect(response.statusCode).toBe(502);
    expect(response.body).not.toContain('123456789012');
    expect(response.json).toMatchObject({ error: 'BadGateway', requestId: 'req-1' });
    expect(logged.error).toHaveBeenCalledWith(
      'request failed',
      expect.objectContaining({ status: 502, error: expect.objectContaining({ message: ARN_MESSAGE }) }),
    );
  });
});
