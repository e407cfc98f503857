import { describe, expect, it } from 'vitest';
import { api, apiEvent } from './fixtures.js';

describe('GET /recipes', () => {
  it('lists the catalog: name, description, file, schedule, triggers and regions', async () => {
    // Prepare
    const { call } = api();

    // Act
    const response = await call(apiEvent('GET', '/recipes'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({
      buildRegion: 'us-east-1',
      recipes: [
        {
          name: 'web',
          file: 'recipes/web.yml',
          regions: ['eu-west-1', 'ap-southeast-2'],
          triggers: [],
          links: { self: '/recipes/web' },
        },
        {
          name: 'worker',
          description: 'queue worker',
          file: 'recipes/worker.yml',
          regions: [],
          schedule: { expression: 'cron(0 3 ? * SUN *)', timezone: 'UTC', enabled: true },
          triggers: [],
          links: { self: '/recipes/worker' },
        },
      ],
    });
  });

  it('never includes the user data', async () => {
    // Prepare
    const { call } = api();

    // Act
    const responses = [await call(apiEvent('GET', '/recipes')), await call(apiEvent('GET', '/recipes/web'))];

    // Assess
    for (const r of responses) expect(r.body).not.toContain('echo hello');
  });
});

describe('GET /recipes/{name}', () => {
  it('answers the recipe with the bootstrap platform and the user data size in bytes', async () => {
    // Prepare
    const { call } = api();

    // Act
    const response = await call(apiEvent('GET', '/recipes/web'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({
      name: 'web',
      buildRegion: 'us-east-1',
      recipe: {
        name: 'web',
        builder: { instanceType: 't3.small' },
        bootstrap: { platform: 'linux', timeoutMinutes: 60, sizeBytes: '#!/bin/bash\necho hello\n'.length },
        distribution: { regions: ['eu-west-1', 'ap-southeast-2'] },
      },
    });
  });

  it('answers 404 NotFound for a recipe not in the catalog', async () => {
    // Prepare
    const { call } = api();

    // Act
    const response = await call(apiEvent('GET', '/recipes/nope'));

    // Assess
    expect(response.statusCode).toBe(404);
    expect(response.json).toEqual({ error: 'NotFound', message: "no recipe nope in this stack's catalog" });
  });
});
