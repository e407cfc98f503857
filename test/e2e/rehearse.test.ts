import { describe, expect, it } from 'vitest';
import { runLocalBake } from '../../local/runner.js';
import { recipe, useEmulator } from './helpers.js';

/**
 * `npm run bake -- <recipe> --rehearse`: the realistic profile of the AWS-behaviour layer, where
 * one AWS minute passes in a local second. Lower bounds are exact (the layer cannot finish a
 * stage before its modelled duration); upper bounds leave room for a busy machine.
 */
describe('a rehearsal on the realistic profile', () => {
  useEmulator();

  it('takes about as long as AWS would for each stage, and still bakes in every region', async () => {
    const result = await runLocalBake({
      recipe: await recipe(),
      region: 'us-east-1',
      profile: 'realistic',
      bootstrapSeconds: 120,
    });
    expect(result.status, JSON.stringify(result.failure)).toBe('succeeded');
    expect(result.profile).toBe('realistic');
    const aws = (label: string) => result.stages.find((s) => s.label === label)?.awsSeconds ?? Number.NaN;
    const near = (label: string, expected: number) => {
      expect(aws(label), label).toBeGreaterThanOrEqual(expected * 0.95);
      expect(aws(label), label).toBeLessThanOrEqual(expected * 1.5 + 240);
    };
    near('WaitForBuilder', 30 + 120 + 60); // launch, the bootstrap, the stop
    near('WaitForImage', 240);
    // Copies run in parallel; their regions' events reach the stack through the forwarding rules
    // (the reconciler, every minute, is the fallback).
    near('WaitForCopy eu-west-1', 900);
    near('WaitForCopy ap-southeast-2', 900);
    expect(Object.keys(result.images).sort()).toEqual(['ap-southeast-2', 'eu-west-1', 'us-east-1']);
  }, 180_000);
});
