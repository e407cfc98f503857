import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { executionInputSchema } from '../../lib/state.js';
import { added, type Inventory, inventories, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

describe('npm run bake (the local bake CLI)', () => {
  const emulator = useEmulator();

  /** What `npm run bake -- <args>` runs (package.json), without npm around it. */
  function bake(...args: string[]) {
    const r = spawnSync(process.execPath, ['bin/ami-bake.mjs', 'bake', '--local', ...args], {
      encoding: 'utf8',
      env: { ...process.env, AWS_ENDPOINT_URL: emulator.endpoint() },
      timeout: 120_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('prints usage, options, exit codes and examples for --help', () => {
    const { code, stdout } = bake('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Usage:\n(\s+.*\n)?\s+npm run bake -- <recipe.yml>/);
    expect(stdout).toContain('--simulate-bootstrap-failure');
    expect(stdout).toMatch(/Exit codes: 0 .* 1 .* 2 bad input/);
  });

  it('bakes the example recipe into three regions and prints one JSON result with --json', () => {
    const { code, stdout } = bake('recipes/example.yml', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ status: 'succeeded', recipe: 'example-web', bakeId: expect.any(String) });
    expect(Object.keys(result.images).sort()).toEqual([...regions].sort());
    for (const image of Object.values(result.images) as { imageId: string; snapshotIds: string[] }[]) {
      expect(image.imageId).toMatch(/^ami-/);
      expect(image.snapshotIds[0]).toMatch(/^snap-/);
    }
    expect(result.events.map((e: { detailType: string }) => e.detailType)).toEqual([
      'Bake Started',
      'Bake Succeeded',
    ]);
  });

  it('prints a line per stage, the region table and the events for a human', () => {
    const { code, stdout } = bake('recipes/example.yml');
    expect(code).toBe(0);
    for (const stage of [
      'ResolveRecipe',
      'LaunchBuilder',
      'WaitForBuilder',
      'CreateImage',
      'CopyImage eu-west-1',
      'FinalizeImage',
    ]) {
      expect(stdout).toMatch(new RegExp(`✓ ${stage}\\s+\\d+\\.\\d+s`));
    }
    expect(stdout).toMatch(/Region\s+Image\s+Snapshots\n-+/);
    expect(stdout).toMatch(/ap-southeast-2\s+ami-\w+\s+snap-\w+/);
    expect(stdout).toMatch(/Bake \S+ succeeded in/);
  });

  it('exits 1 and names the failed stage when the bootstrap fails', () => {
    const { code, stdout } = bake('recipes/example.yml', '--json', '--simulate-bootstrap-failure');
    expect(code).toBe(1);
    const result = JSON.parse(stdout);
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({ stage: 'WaitForBuilder', error: 'BootstrapFailedError' });
    expect(result.events.map((e: { detailType: string }) => e.detailType)).toEqual([
      'Bake Started',
      'Bake Failed',
    ]);
  });

  it('lists every problem of a bad recipe with its path, exits 2 and creates nothing', async () => {
    const before = await inventories(regions);
    const { code, stderr, stdout } = bake('test/fixtures/cli/bad.yml');
    expect(code).toBe(2);
    expect(stdout).not.toContain('Baking');
    expect(stderr).toContain('test/fixtures/cli/bad.yml: 4 problems');
    expect(stderr).toMatch(/ {2}name: must be lowercase/);
    expect(stderr).toMatch(/ {2}base: choose exactly one base selector, not imageId and ssmParameter/);
    expect(stderr).toMatch(/ {2}builder: unknown field colour/);
    expect(stderr).toMatch(/ {2}distribution\.regions\.1: unknown AWS region "mars-north-1"/);
    const after = await inventories(regions);
    for (const r of regions) {
      expect(added(before[r] as Inventory, after[r] as Inventory)).toEqual({
        liveInstances: [],
        images: [],
        snapshots: [],
        volumes: [],
      });
    }
  });

  it('exits 2 with the field named when the instance type cannot run the base image', () => {
    const { code, stdout } = bake('test/fixtures/cli/arm-on-x86.yml');
    expect(code).toBe(2);
    expect(stdout).toMatch(
      /FAILED at ResolveRecipe: RecipeInvalidError: builder\.instanceType: t4g\.micro runs arm64/,
    );
  });

  it('exits 2 for an unknown option or region', () => {
    expect(bake('recipes/example.yml', '--frobnicate').code).toBe(2);
    const { code, stderr } = bake('recipes/example.yml', '--region', 'moon-1');
    expect(code).toBe(2);
    expect(stderr).toContain('unknown AWS region "moon-1"');
  });

  it('prints a valid state machine input for a deployed bake with --print-input, creating nothing', async () => {
    const before = await inventories(['us-east-1']);
    const { code, stdout } = bake('recipes/example.yml', '--print-input');
    expect(code).toBe(0);
    // A deployed state machine takes the recipe's name; its ResolveRecipe loads the recipe itself.
    const input = JSON.parse(stdout);
    expect(executionInputSchema.parse(input)).toMatchObject({ recipeName: 'example-web' });
    expect(input).not.toHaveProperty('recipe');
    const after = await inventories(['us-east-1']);
    expect(added(before['us-east-1'] as Inventory, after['us-east-1'] as Inventory).liveInstances).toEqual(
      [],
    );
  });

  it('exits 2 when the recipe file does not exist', () => {
    const { code, stderr } = bake('recipes/nope.yml');
    expect(code).toBe(2);
    expect(stderr).toMatch(/\(file\): cannot read recipes\/nope.yml/);
  });
});
