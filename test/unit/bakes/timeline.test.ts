import { describe, expect, it } from 'vitest';
import { duration, renderGantt, stageSeconds, stageSpans, timelineOf } from '../../../lib/bakes/timeline.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, 0) + s * 1000).toISOString();

describe('a bake timeline', () => {
  const timeline = timelineOf([
    { stage: 'ResolveRecipe', startedAt: at(0), endedAt: at(1), outcome: 'succeeded' },
    { stage: 'WaitForBuilder', startedAt: at(1), endedAt: at(61), outcome: 'succeeded' },
    { stage: 'CopyImage', lane: 'eu-west-1', startedAt: at(61), endedAt: at(91), outcome: 'succeeded' },
    { stage: 'CopyImage', lane: 'ap-southeast-2', startedAt: at(61), endedAt: at(121), outcome: 'failed' },
  ]);

  it('measures every stage from the bake start', () => {
    expect(timeline?.startedAt).toBe(at(0));
    expect(timeline?.totalSeconds).toBe(121);
    expect(timeline?.bars.map((b) => [b.stage, b.lane, b.startSeconds, b.endSeconds])).toEqual([
      ['ResolveRecipe', '', 0, 1],
      ['WaitForBuilder', '', 1, 61],
      ['CopyImage', 'eu-west-1', 61, 91],
      ['CopyImage', 'ap-southeast-2', 61, 121],
    ]);
  });

  it('draws parallel copies side by side: the same start column, each its own length', () => {
    const lines = renderGantt(timeline ?? expect.fail('no timeline'), 40);
    const eu = lines.find((l) => l.startsWith('CopyImage eu-west-1')) ?? '';
    const ap = lines.find((l) => l.startsWith('CopyImage ap-southeast-2')) ?? '';
    const bar = (l: string) => l.slice(l.indexOf('│') + 1, l.lastIndexOf('│'));
    expect(bar(eu).search(/\S/)).toBe(bar(ap).search(/\S/));
    expect(bar(eu).trim().length).toBeLessThan(bar(ap).trim().length);
    expect(bar(ap)).toContain('✗');
    expect(ap).toMatch(/1m00s {2}failed$/);
    expect(lines.at(-1)).toContain('2m01s');
  });

  it('gives a stage that took no time one column, so it is seen to have run', () => {
    const t = timelineOf([
      { stage: 'A', startedAt: at(0), endedAt: at(0), outcome: 'succeeded' },
      { stage: 'B', startedAt: at(0), endedAt: at(100), outcome: 'succeeded' },
    ]);
    const a = renderGantt(t ?? expect.fail('no timeline'), 20)[0] ?? '';
    expect(a).toContain('│█ ');
  });

  it('draws a stage that starts at the very end in the last column', () => {
    const t = timelineOf([
      { stage: 'A', startedAt: at(0), endedAt: at(100), outcome: 'succeeded' },
      { stage: 'B', startedAt: at(100), endedAt: at(100), outcome: 'succeeded' },
    ]);
    expect(renderGantt(t ?? expect.fail('no timeline'), 10)[1]).toMatch(/│ {9}█│/);
  });

  it('runs a running stage to now', () => {
    const t = timelineOf([{ stage: 'WaitForImage', startedAt: at(0), outcome: 'running' }], new Date(at(30)));
    expect(t?.totalSeconds).toBe(30);
    expect(renderGantt(t ?? expect.fail('no timeline'), 10)[0]).toMatch(/│▒{10}│ running$/);
  });

  it('has none without stages', () => {
    expect(timelineOf([])).toBeUndefined();
  });

  it('says durations briefly', () => {
    expect([0.42, 12.4, 185, 3725].map(duration)).toEqual(['0.4s', '12s', '3m05s', '1h02m']);
  });
});

describe('the stages of a bake, from the times its states recorded', () => {
  const bake = {
    context: { startedAt: at(0), at: at(1) },
    builder: { instanceId: 'i-1', region: 'us-east-1', at: at(2) },
    bootstrap: { outcome: 'success', exitCode: 0, at: at(300) },
    stopped: { at: at(310) },
    image: { imageId: 'ami-1', region: 'us-east-1', at: at(311) },
    imageReady: { imageId: 'ami-1', snapshotIds: [], at: at(400) },
    copies: [
      { region: 'eu-west-1', imageId: 'ami-2', snapshotIds: [], at: at(700) },
      { region: 'ap-southeast-2', imageId: 'ami-3', snapshotIds: [], at: at(1000) },
    ],
    finalized: { images: {}, at: at(1002) },
  };

  it('runs each stage from the end of the one before to its own time, the copies side by side', () => {
    const spans = stageSpans(bake);
    expect(spans.map((s) => [s.stage, s.lane ?? '', s.startedAt, s.endedAt])).toEqual([
      ['ResolveRecipe', '', at(0), at(1)],
      ['LaunchBuilder', '', at(1), at(2)],
      ['WaitForBuilder', '', at(2), at(300)],
      ['StopBuilder', '', at(300), at(310)],
      ['CreateImage', '', at(310), at(311)],
      ['WaitForImage', '', at(311), at(400)],
      ['CopyImages', 'eu-west-1', at(400), at(700)],
      ['CopyImages', 'ap-southeast-2', at(400), at(1000)],
      ['FinalizeImage', '', at(1000), at(1002)],
    ]);
  });

  it("gives a Map's seconds to its last iteration", () => {
    expect(stageSeconds(stageSpans(bake))).toMatchObject({
      WaitForBuilder: 298,
      CopyImages: 600,
      FinalizeImage: 2,
    });
  });

  it('has no stages before ResolveRecipe recorded its context', () => {
    expect(stageSpans({})).toEqual([]);
  });
});
