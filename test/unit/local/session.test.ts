import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ResolvedRecipe } from '../../../lib/state.js';
import type { BehaviourLayer } from '../../../local/aws-behaviour/index.js';
import { PROFILES } from '../../../local/aws-behaviour/profiles.js';
import { Reconciler } from '../../../local/reconciler.js';
import { ConcurrentBakeConflictError, joinSession } from '../../../local/session.js';

function fakeLayer(endpoint = 'http://127.0.0.1:1'): BehaviourLayer {
  let profile = PROFILES.instant;
  return {
    endpoint,
    get profile() {
      return profile;
    },
    setProfile: vi.fn((p) => {
      profile = typeof p === 'string' ? PROFILES[p as 'instant'] : p;
    }),
  } as unknown as BehaviourLayer;
}

const recipe = (name: string, description = 'x') => ({ name, description }) as unknown as ResolvedRecipe;

describe('local session', () => {
  const leaves: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const leave of leaves.splice(0)) await leave();
  });
  const join = (...args: Parameters<typeof joinSession>) => {
    const joined = joinSession(...args);
    leaves.push(joined.leave);
    return joined;
  };

  it('sets the profile only for the first bake, so running bakes keep their throttling buckets', () => {
    const layer = fakeLayer();
    const a = join(layer, 'us-east-1', 'realistic');
    const b = join(layer, 'us-east-1', 'realistic');
    expect(layer.setProfile).toHaveBeenCalledTimes(1);
    expect(b.session).toBe(a.session);
  });

  it('refuses a bake with another region or profile while bakes run', () => {
    const layer = fakeLayer();
    join(layer, 'us-east-1', 'instant');
    expect(() => join(layer, 'eu-west-1', 'instant')).toThrow(ConcurrentBakeConflictError);
    expect(() => join(layer, 'us-east-1', 'faults')).toThrow(/behaviour profile faults/);
  });

  it('starts a fresh session once the last bake has left', async () => {
    const layer = fakeLayer();
    const first = joinSession(layer, 'us-east-1', 'instant');
    await first.leave();
    const second = join(layer, 'eu-west-1', 'faults');
    expect(second.session).not.toBe(first.session);
    expect(layer.setProfile).toHaveBeenCalledTimes(2);
  });

  it('provisions the stack once for every bake of the session', async () => {
    const { session } = join(fakeLayer(), 'us-east-1', 'instant');
    const provision = vi.fn(async () => ({
      busName: 'b',
      tableName: 't',
      instanceProfile: 'p',
      securityGroupId: 'sg',
    }));
    await Promise.all([session.stack(provision), session.stack(provision)]);
    expect(provision).toHaveBeenCalledTimes(1);
  });

  it('runs one resumeWait for an event every execution of the process passes on', async () => {
    const { session } = join(fakeLayer(), 'us-east-1', 'instant');
    const resume = vi.fn(async () => 'ok');
    const event = { region: 'us-east-1', detail: { 'instance-id': 'i-1', state: 'stopped' } };
    await Promise.all([1, 2, 3].map(() => session.resumeOnce({ ...event }, resume)));
    expect(resume).toHaveBeenCalledTimes(1);
    // EC2 may deliver the same event again later: that delivery runs again, as in AWS.
    await new Promise((r) => setImmediate(r));
    await session.resumeOnce(event, resume);
    expect(resume).toHaveBeenCalledTimes(2);
  });

  it('keeps one catalog holding every recipe of the session, and refuses a name with other content', async () => {
    const { session } = join(fakeLayer(), 'us-east-1', 'instant');
    await session.addRecipe(recipe('web-a'));
    await session.addRecipe(recipe('web-a'));
    const dir = await session.addRecipe(recipe('web-b'));
    expect(process.env.RECIPES_DIR).toBe(dir);
    expect(readdirSync(dir)).toHaveLength(2);
    await expect(session.addRecipe(recipe('web-a', 'other'))).rejects.toThrow(ConcurrentBakeConflictError);
  });
});

describe('the shared reconciler', () => {
  it('runs on one schedule however many waits hold it, and stops when none does', async () => {
    vi.useFakeTimers();
    try {
      const reconciler = new Reconciler();
      const run = vi.fn(async () => undefined);
      const releases = [1, 2, 3].map(() => reconciler.hold(run, () => 1000));
      await vi.advanceTimersByTimeAsync(3_000);
      expect(run).toHaveBeenCalledTimes(3);
      for (const release of releases) release();
      await vi.advanceTimersByTimeAsync(3_000);
      expect(run).toHaveBeenCalledTimes(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('answers bakes that end together with one pass that starts after they ask', async () => {
    const reconciler = new Reconciler();
    let finish: () => void = () => undefined;
    const slow = vi.fn(() => new Promise<void>((r) => (finish = r)));
    const first = reconciler.now(slow);
    const asks = [reconciler.now(slow), reconciler.now(slow), reconciler.now(slow)];
    expect(slow).toHaveBeenCalledTimes(1); // the running pass may have read the table before they asked
    finish();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(slow).toHaveBeenCalledTimes(2);
    finish();
    await Promise.all(asks);
    expect(reconciler.passes).toBe(2);
  });
});
