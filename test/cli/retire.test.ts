import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

describe('ami-bake retire: bad input exits 2 before any AWS call', () => {
  it('refuses a recipe without retention, saying how to add it', async () => {
    // Act
    const { code, stderr } = await cli('retire', 'example-web', '--dry-run');

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('recipe example-web has no retention: add retention: {keep: N} to it');
  });

  it('refuses a recipe that is not in the catalog, naming the known ones', async () => {
    // Act
    const { code, stderr } = await cli('retire', 'no-such-recipe', '--dry-run');

    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(/recipe no-such-recipe is not in the catalog recipes\/ \(known: .*example-web/);
  });

  it('refuses --local without an emulator to look in', async () => {
    // Prepare
    const endpoint = process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL;

    // Act
    const { code, stderr } = await cli(
      'retire',
      'test/fixtures/retention/retained.yml',
      '--local',
      '--dry-run',
    ).finally(() => {
      if (endpoint !== undefined) process.env.AWS_ENDPOINT_URL = endpoint;
    });

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain('--local needs AWS_ENDPOINT_URL');
  });
});
