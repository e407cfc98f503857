import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeApiHandler } from '../../../functions/api/app.js';
import { BAKE_ID } from '../bakes/fixtures.js';
import { api, apiEvent } from './fixtures.js';

describe('the API router (@middy/http-router behind the catch-all route)', () => {
  it.each(['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'])(
    'refuses %s on a known path with 405 and the served methods in Allow',
    async (method) => {
      // Prepare
      const { call } = api();

      // Act
      const response = await call(apiEvent(method, '/recipes'));

      // Assess
      expect(response.statusCode).toBe(405);
      expect(response.headers.allow).toBe('GET');
      expect(response.json.error).toBe('MethodNotAllowed');
    },
  );

  it('matches methods in any case, as a hand-built event may spell them', async () => {
    // Prepare
    const { call } = api();

    // Act
    const response = await call(apiEvent('get', '/recipes'));

    // Assess
    expect(response.statusCode).toBe(200);
  });

  it("takes path parameters from the path as sent, not from API Gateway's route", async () => {
    // Prepare: API Gateway's own route would name a well-formed id (decoded, or of another route).
    const { call } = api();
    const event = { ...apiEvent('GET', '/bakes/BAD!!bake!!'), pathParameters: { bakeId: BAKE_ID } };

    // Act
    const response = await call(event);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json.problems?.map((p) => p.path)).toEqual(['path.bakeId']);
  });

  it('fails every request when its dependencies cannot be built, unknown paths too', async () => {
    // Prepare
    const handler = makeApiHandler(() => Promise.reject(new Error('RECIPES_DIR is not set')));

    // Act
    const response = await handler(apiEvent('GET', '/images'), {} as Context);

    // Assess
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'InternalError' });
  });
});
