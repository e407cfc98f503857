import { randomUUID } from 'node:crypto';
import type { RetentionReport } from '../lib/retention/core.js';
import { lambdaContext, loadHandlers } from './definition.js';

interface TappedEvent {
  'detail-type': string;
  source: string;
  detail: Record<string, unknown>;
}

/**
 * What the deployed stack does after a successful bake of a recipe with retention: its rule on the
 * project bus (BakeSucceededRetentionRule) hands the Bake Succeeded event, as EventBridge delivers
 * it, to the real retireImages handler, which here talks to the emulator through the local
 * clients. Returns the handler's reports; undefined when no Bake Succeeded was published.
 */
export async function runLocalRetention(
  events: readonly TappedEvent[],
  region: string,
): Promise<RetentionReport[] | undefined> {
  const succeeded = events.find((e) => e['detail-type'] === 'Bake Succeeded' && e.source === 'ami-bake');
  if (!succeeded) return undefined;
  const handler = (await loadHandlers(new Set(['retireImages']))).get('retireImages');
  if (!handler) throw new Error('no handler for retireImages');
  const delivered = {
    version: '0',
    id: randomUUID(),
    'detail-type': succeeded['detail-type'],
    source: succeeded.source,
    account: '123456789012',
    time: new Date().toISOString(),
    region,
    resources: [],
    detail: succeeded.detail,
  };
  const result = (await handler(delivered, lambdaContext('retireImages', region))) as {
    reports: RetentionReport[];
  };
  return result.reports;
}
