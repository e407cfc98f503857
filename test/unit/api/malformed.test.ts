import { StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../../functions/api/body.js';
import { BAKE_ID } from '../bakes/fixtures.js';
import { api, apiEvent, type RequestOptions } from './fixtures.js';

interface Case {
  name: string;
  method: string;
  path: string;
  request?: RequestOptions;
  status: number;
  error: string;
  /** The problem path the response must name (400 only). */
  field?: string;
}

const post = (body: RequestOptions['body'], request: RequestOptions = {}) => ({
  method: 'POST',
  path: '/bakes',
  request: { body, ...request },
});
const bad = (field: string) => ({ status: 400, error: 'BadRequest', field });

const CASES: Case[] = [
  // The body of POST /bakes, field by field.
  { name: 'a body without a recipe', ...post({}), ...bad('recipe') },
  { name: 'a recipe given as a number', ...post({ recipe: 42 }), ...bad('recipe') },
  { name: 'a recipe name in upper case', ...post({ recipe: 'Web' }), ...bad('recipe') },
  { name: 'a recipe name with a space', ...post({ recipe: 'web server' }), ...bad('recipe') },
  { name: 'a recipe name of 41 characters', ...post({ recipe: 'a'.repeat(41) }), ...bad('recipe') },
  { name: 'a recipe name that is a path', ...post({ recipe: '../../etc/passwd' }), ...bad('recipe') },
  { name: 'an unknown top-level field', ...post({ recipe: 'web', colour: 'red' }), ...bad('colour') },
  {
    name: 'a source in the body (always api)',
    ...post({ recipe: 'web', source: 'schedule' }),
    ...bad('source'),
  },
  {
    name: 'an idempotency key in the body (it is a header)',
    ...post({ recipe: 'web', idempotencyKey: 'k-1' }),
    ...bad('idempotencyKey'),
  },
  { name: 'force given as a string', ...post({ recipe: 'web', force: 'yes' }), ...bad('force') },
  { name: 'an empty reason', ...post({ recipe: 'web', reason: '' }), ...bad('reason') },
  {
    name: 'a reason of 257 characters',
    ...post({ recipe: 'web', reason: 'x'.repeat(257) }),
    ...bad('reason'),
  },
  { name: 'overrides given as a string', ...post({ recipe: 'web', overrides: 'big' }), ...bad('overrides') },
  {
    name: 'an override of something overrides cannot change',
    ...post({ recipe: 'web', overrides: { base: { imageId: 'ami-0123456789abcdef0' } } }),
    ...bad('overrides.base'),
  },
  {
    name: 'an unknown field inside overrides.builder',
    ...post({ recipe: 'web', overrides: { builder: { colour: 'red' } } }),
    ...bad('overrides.builder.colour'),
  },
  {
    name: 'an instance type given as a number',
    ...post({ recipe: 'web', overrides: { builder: { instanceType: 3 } } }),
    ...bad('overrides.builder.instanceType'),
  },
  {
    name: 'an instance type that is not one',
    ...post({ recipe: 'web', overrides: { builder: { instanceType: 't3' } } }),
    ...bad('overrides.builder.instanceType'),
  },
  {
    name: 'regions given as a string',
    ...post({ recipe: 'web', overrides: { distribution: { regions: 'eu-west-1' } } }),
    ...bad('overrides.distribution.regions'),
  },
  {
    name: 'an unknown region',
    ...post({ recipe: 'web', overrides: { distribution: { regions: ['mars-north-1'] } } }),
    ...bad('overrides.distribution.regions.0'),
  },
  {
    name: 'a tag value that is a number',
    ...post({ recipe: 'web', overrides: { image: { tags: { team: 7 } } } }),
    ...bad('overrides.image.tags.team'),
  },
  {
    name: 'a tag that forges a lineage tag',
    ...post({ recipe: 'web', overrides: { image: { tags: { 'ami-bake:recipe': 'other' } } } }),
    ...bad('overrides.image.tags.ami-bake:recipe'),
  },
  {
    name: 'a bootstrap budget of zero minutes',
    ...post({ recipe: 'web', overrides: { bootstrap: { timeoutMinutes: 0 } } }),
    ...bad('overrides.bootstrap.timeoutMinutes'),
  },
  // The body as a whole.
  { name: 'no body', ...post(undefined), ...bad('(body)') },
  { name: 'a body of whitespace', ...post('  \n'), ...bad('(body)') },
  { name: 'an array body', ...post([{ recipe: 'web' }]), ...bad('(body)') },
  { name: 'a string body', ...post('"web"'), ...bad('(body)') },
  { name: 'a null body', ...post('null'), ...bad('(body)') },
  { name: 'JSON with a trailing comma', ...post('{"recipe": "web",}'), ...bad('(body)') },
  { name: 'JSON cut short', ...post('{"recipe": "web"'), ...bad('(body)') },
  {
    name: 'base64-encoded JSON that is not JSON',
    ...post('{recipe: web}', { base64: true }),
    ...bad('(body)'),
  },
  {
    name: 'a body over 64 KiB',
    ...post({ recipe: 'web', reason: 'x'.repeat(MAX_BODY_BYTES) }),
    status: 413,
    error: 'PayloadTooLarge',
  },
  {
    name: 'a text/plain body',
    ...post('{"recipe":"web"}', { headers: { 'content-type': 'text/plain' } }),
    status: 415,
    error: 'UnsupportedMediaType',
  },
  {
    name: 'a form body (curl -d without a content type)',
    ...post('recipe=web', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    status: 415,
    error: 'UnsupportedMediaType',
  },
  // The Idempotency-Key header.
  {
    name: 'an idempotency key with a space',
    ...post({ recipe: 'web' }, { headers: { 'idempotency-key': 'my key' } }),
    ...bad('header.Idempotency-Key'),
  },
  {
    name: 'an idempotency key of 129 characters',
    ...post({ recipe: 'web' }, { headers: { 'idempotency-key': 'k'.repeat(129) } }),
    ...bad('header.Idempotency-Key'),
  },
  {
    name: 'an empty idempotency key',
    ...post({ recipe: 'web' }, { headers: { 'idempotency-key': '' } }),
    ...bad('header.Idempotency-Key'),
  },
  // Path parameters.
  { name: 'a bake id in upper case', method: 'GET', path: '/bakes/WEB_0123456789', ...bad('path.bakeId') },
  { name: 'a bake id that is too short', method: 'GET', path: '/bakes/web_1', ...bad('path.bakeId') },
  {
    name: 'a bake id of 81 characters',
    method: 'GET',
    path: `/bakes/${'a'.repeat(81)}`,
    ...bad('path.bakeId'),
  },
  {
    name: 'a percent-encoded bake id',
    method: 'GET',
    path: '/bakes/web%2F0123456789',
    ...bad('path.bakeId'),
  },
  {
    name: 'cancelling a malformed bake id',
    method: 'POST',
    path: '/bakes/BAD!!bake!!/cancel',
    ...bad('path.bakeId'),
  },
  {
    name: 'cancelling with an unknown body field',
    method: 'POST',
    path: `/bakes/${BAKE_ID}/cancel`,
    request: { body: { force: true } },
    ...bad('force'),
  },
  {
    name: 'cancelling with a reason that is a number',
    method: 'POST',
    path: `/bakes/${BAKE_ID}/cancel`,
    request: { body: { reason: 42 } },
    ...bad('reason'),
  },
  {
    name: 'a recipe name with an underscore',
    method: 'GET',
    path: '/recipes/web_server',
    ...bad('path.name'),
  },
  // Query parameters.
  {
    name: 'an unknown status',
    method: 'GET',
    path: '/bakes',
    request: { query: 'status=DONE' },
    ...bad('query.status'),
  },
  {
    name: 'a status in lower case',
    method: 'GET',
    path: '/bakes',
    request: { query: 'status=running' },
    ...bad('query.status'),
  },
  {
    name: 'a limit of 0',
    method: 'GET',
    path: '/bakes',
    request: { query: 'limit=0' },
    ...bad('query.limit'),
  },
  {
    name: 'a limit of 101',
    method: 'GET',
    path: '/bakes',
    request: { query: 'limit=101' },
    ...bad('query.limit'),
  },
  {
    name: 'a limit that is not a number',
    method: 'GET',
    path: '/bakes',
    request: { query: 'limit=ten' },
    ...bad('query.limit'),
  },
  {
    name: 'a fractional limit',
    method: 'GET',
    path: '/bakes',
    request: { query: 'limit=2.5' },
    ...bad('query.limit'),
  },
  {
    name: 'a bad recipe filter',
    method: 'GET',
    path: '/bakes',
    request: { query: 'recipe=Web!' },
    ...bad('query.recipe'),
  },
  {
    name: 'an empty recipe filter',
    method: 'GET',
    path: '/bakes',
    request: { query: 'recipe=' },
    ...bad('query.recipe'),
  },
  {
    name: 'an unknown query parameter',
    method: 'GET',
    path: '/bakes',
    request: { query: 'sort=asc' },
    ...bad('query.sort'),
  },
  {
    name: 'a status given twice',
    method: 'GET',
    path: '/bakes',
    request: { query: 'status=RUNNING&status=FAILED' },
    ...bad('query.status'),
  },
  // Routes and methods.
  { name: 'an unknown route', method: 'GET', path: '/images', status: 404, error: 'NotFound' },
  {
    name: 'a path below a bake that does not exist',
    method: 'GET',
    path: `/bakes/${BAKE_ID}/logs`,
    status: 404,
    error: 'NotFound',
  },
  { name: 'a trailing slash', method: 'GET', path: '/bakes/', status: 404, error: 'NotFound' },
  { name: 'DELETE on /bakes', method: 'DELETE', path: '/bakes', status: 405, error: 'MethodNotAllowed' },
  { name: 'PUT on a bake', method: 'PUT', path: `/bakes/${BAKE_ID}`, status: 405, error: 'MethodNotAllowed' },
  {
    name: 'GET on cancel',
    method: 'GET',
    path: `/bakes/${BAKE_ID}/cancel`,
    status: 405,
    error: 'MethodNotAllowed',
  },
  {
    name: 'POST on /recipes',
    method: 'POST',
    path: '/recipes',
    request: { body: {} },
    status: 405,
    error: 'MethodNotAllowed',
  },
];

describe('malformed requests', () => {
  it('covers at least 30 kinds of malformed request', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES)('answers $status for $name, naming what is wrong, and starts nothing', async (c) => {
    // Prepare
    const { call, sfn, cleanup, published } = api();

    // Act
    const response = await call(apiEvent(c.method, c.path, c.request));

    // Assess
    expect(response.statusCode).toBe(c.status);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json.error).toBe(c.error);
    expect(response.json.message).toEqual(expect.any(String));
    if (c.field) expect(response.json.problems?.map((p) => p.path)).toContain(c.field);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
    expect(cleanup).not.toHaveBeenCalled();
    expect(published).toEqual([]);
  });

  it('reports every problem of a request at once: body fields and the header together', async () => {
    // Prepare
    const { call, sfn } = api();
    const event = apiEvent('POST', '/bakes', {
      body: { recipe: 42, force: 'yes', overrides: { builder: { colour: 'red' } } },
      headers: { 'idempotency-key': 'has space' },
    });

    // Act
    const response = await call(event);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json.problems?.map((p) => p.path).sort()).toEqual([
      'force',
      'header.Idempotency-Key',
      'overrides.builder.colour',
      'recipe',
    ]);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('says where malformed JSON goes wrong, by position, line and column', async () => {
    // Prepare
    const { call } = api();

    // Act
    const response = await call(apiEvent('POST', '/bakes', { body: '{\n  "recipe": web\n}' }));

    // Assess
    expect(response.json.problems).toEqual([
      { path: '(body)', message: 'not valid JSON: unexpected "w" at position 14 (line 2, column 13)' },
    ]);
  });

  it('names the allowed methods in the Allow header of a 405', async () => {
    // Prepare
    const { call } = api();

    // Act
    const response = await call(apiEvent('DELETE', '/bakes'));

    // Assess
    expect(response.headers.allow).toBe('POST, GET');
  });
});
