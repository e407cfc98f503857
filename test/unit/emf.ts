import { Metrics } from '@aws-lambda-powertools/metrics';
import { vi } from 'vitest';
import { METRICS_NAMESPACE, redirectMetrics } from '../../lib/metrics.js';

export interface EmfRecord {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/**
 * Captures the CloudWatch EMF records the code under test writes through lib/metrics.ts: a Metrics
 * instance of the test's own (enabled, writing to console.log), which `stop()` removes again.
 */
export function captureEmf() {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'ami-bake' });
  const undo = redirectMetrics(metrics);
  const records = () =>
    log.mock.calls
      .map((c) => String(c[0]))
      .filter((s) => s.startsWith('{"_aws"'))
      .map((s) => JSON.parse(s) as EmfRecord);
  return {
    metrics,
    records,
    /** [metric, dimension names (without service), value, dimension values] per record. */
    summary: () =>
      records().map((r) => {
        const m = r._aws.CloudWatchMetrics[0];
        const name = m?.Metrics[0]?.Name ?? '';
        const dims = (m?.Dimensions[0] ?? []).filter((d) => d !== 'service');
        return { name, dims, value: r[name], values: Object.fromEntries(dims.map((d) => [d, r[d]])) };
      }),
    stop() {
      undo();
      log.mockRestore();
      vi.unstubAllEnvs();
    },
  };
}
