import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bakeEventMetrics, emit, METRICS } from '../../lib/metrics.js';
import { captureEmf, type EmfRecord } from './emf.js';

/** [metric name, dimension names, value] of each record. */
const summary = (records: EmfRecord[]) =>
  records.map((r) => {
    const m = r._aws.CloudWatchMetrics[0];
    const name = m?.Metrics[0]?.Name ?? '';
    return [name, m?.Dimensions[0] ?? [], r[name]];
  });

describe('metrics in CloudWatch embedded metric format', () => {
  let probe: ReturnType<typeof captureEmf>;
  beforeEach(() => {
    probe = captureEmf();
  });
  afterEach(() => probe.stop());

  it('writes one record per dimension set, in the AmiBake namespace', () => {
    emit('BakesFailed', 1, { recipe: 'web', stage: 'CopyImages' });
    const records = probe.records();
    expect(records.every((r) => r._aws.CloudWatchMetrics[0]?.Namespace === 'AmiBake')).toBe(true);
    expect(summary(records)).toEqual([
      ['BakesFailed', ['service'], 1],
      ['BakesFailed', ['service', 'recipe'], 1],
      ['BakesFailed', ['service', 'stage'], 1],
      ['BakesFailed', ['service', 'recipe', 'stage'], 1],
    ]);
    expect(records[3]).toMatchObject({ recipe: 'web', stage: 'CopyImages', service: 'ami-bake' });
  });

  it('leaves out a dimension set whose value it was not given', () => {
    emit('BakesFailed', 1, { recipe: 'web' });
    expect(summary(probe.records()).map(([, dims]) => dims)).toEqual([['service'], ['service', 'recipe']]);
  });

  it('counts a succeeded bake, its duration, each stage and its cost', () => {
    bakeEventMetrics('Bake Succeeded', {
      recipe: 'web',
      stages: { ResolveRecipe: 1, WaitForBuilder: 300 },
      durationSeconds: 420,
      usage: { transitions: 16, invocations: 18, builderSeconds: 360, instanceType: 't3.micro' },
    });
    const s = summary(probe.records());
    expect(s).toContainEqual(['BakesSucceeded', ['service', 'recipe'], 1]);
    expect(s).toContainEqual(['BakeDuration', ['service'], 420]);
    expect(s).toContainEqual(['StageDuration', ['service', 'recipe', 'stage'], 300]);
    expect(s).toContainEqual(['BakeStateTransitions', ['service', 'recipe'], 16]);
    expect(s).toContainEqual(['BuilderInstanceSeconds', ['service', 'recipe'], 360]);
    // t3.micro for 6 minutes ($0.00104) + 16 transitions ($0.0004) + 18 small invocations.
    const cost = s.find(([n, d]) => n === 'BakeCost' && (d as string[]).length === 1)?.[2] as number;
    expect(cost).toBeGreaterThan(0.00144);
    expect(cost).toBeLessThan(0.0015);
    expect(s.map(([n]) => n)).not.toContain('BakesFailed');
  });

  it('counts a failed bake by its stage, and an incomplete cleanup', () => {
    bakeEventMetrics('Bake Failed', { recipe: 'web', failedStage: 'WaitForBuilder', cleanupProblems: 2 });
    const s = summary(probe.records());
    expect(s).toContainEqual(['BakesFailed', ['service', 'stage'], 1]);
    expect(s).toContainEqual(['CleanupIncomplete', ['service'], 1]);
    expect(probe.records().find((r) => r.stage)?.stage).toBe('WaitForBuilder');
  });

  it('counts a started bake and nothing else', () => {
    bakeEventMetrics('Bake Started', { recipe: 'web' });
    expect(summary(probe.records()).map(([n]) => n)).toEqual(['BakesStarted', 'BakesStarted']);
  });

  it('uses only bounded dimensions', () => {
    const used = new Set(Object.values(METRICS).flatMap((m) => m.dimensions.flat()));
    expect([...used].sort()).toEqual(['answeredBy', 'detailType', 'recipe', 'stage']);
  });
});
