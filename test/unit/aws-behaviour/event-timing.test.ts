import { afterEach, describe, expect, it, vi } from 'vitest';
import { Ec2Model } from '../../../local/aws-behaviour/model.js';
import { PROFILES, type Profile } from '../../../local/aws-behaviour/profiles.js';

/** Draws a fixed sequence, then repeats its last value. */
const draws = (...values: number[]) => {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] ?? 0;
};

/** When (in AWS seconds after `available`) each delivery of one image's event arrives (timers are whole local ms: ±0.06 s). */
async function deliveries(profile: Profile, random: () => number): Promise<number[]> {
  vi.useFakeTimers();
  const model = new Ec2Model(() => profile, random);
  const at: number[] = [];
  model.onEvent(() => at.push((Date.now() * profile.clock) / 1000));
  const t0 = (Date.now() * profile.clock) / 1000;
  model.imageCreated('eu-west-1', 'ami-1', [], 0);
  await vi.advanceTimersByTimeAsync(60_000);
  model.stop();
  return at.map((t) => Math.round((t - t0) * 100) / 100);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('EC2 event timing on the realistic profile (docs/aws-behaviour.md, "Event timing")', () => {
  it('delivers an event within 2 AWS seconds, as near-real-time delivery usually is', async () => {
    // Prepare: not in the tail (0.5 ≥ 5 %), then half-way through [0.5, 2]; no duplicate.
    const random = draws(0.5, 0.5, 0.99);

    // Act
    const at = await deliveries(PROFILES.realistic, random);

    // Assess
    expect(at).toHaveLength(1);
    expect(at[0]).toBeCloseTo(1.25, 0);
  });

  it('delivers 1 event in 20 late, up to 30 AWS seconds (the long tail)', async () => {
    // Prepare: in the tail (0.01 < 5 %), at its end; no duplicate.
    const random = draws(0.01, 1, 0.99);

    // Act
    const at = await deliveries(PROFILES.realistic, random);

    // Assess
    expect(at).toHaveLength(1);
    expect(at[0]).toBeCloseTo(30, 0);
  });

  it('still sometimes delivers an event twice', async () => {
    // Prepare: first delivery at 0.5 s, a duplicate (0.05 < 10 %) at 2 s.
    const random = draws(0.5, 0, 0.05, 0.5, 1);

    // Act
    const at = await deliveries(PROFILES.realistic, random);

    // Assess
    expect(at).toHaveLength(2);
    expect(at[0]).toBeCloseTo(0.5, 0);
    expect(at[1]).toBeCloseTo(2, 0);
  });
});
