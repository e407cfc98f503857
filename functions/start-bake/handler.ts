import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { logger } from '../../lib/logger.js';
import { countStart } from '../../lib/metrics.js';
import { loadCatalog } from '../../lib/recipe/catalog.js';
import { awsStartDeps } from '../../lib/start/aws-deps.js';
import { checkBakeRequestOrigin, listOf } from '../../lib/start/origin.js';
import { startBake } from '../../lib/start/start-bake.js';
import { startBakeInputSchema, toStartRequest, toStartRequests } from './core.js';

// Loaded once per container: the packaged recipes do not change while it lives.
const catalog = loadCatalog(config().RECIPES_DIR);
// A bad recipe fails each invocation with its message, not the process at import.
catalog.catch(() => undefined);

export const handler = makeHandler(startBakeInputSchema, async (event) => {
  const deps = awsStartDeps(config(), await catalog);
  if (!('Records' in event)) {
    const c = config();
    if ('detail' in event)
      checkBakeRequestOrigin(event, {
        sources: listOf(c.BAKE_REQUEST_SOURCES),
        accounts: listOf(c.BAKE_REQUEST_ACCOUNTS),
      });
    const result = await startBake(toStartRequest(event), deps);
    countStart(result);
    return result;
  }
  const requests = toStartRequests(event, deps.catalog);
  if (requests.length === 0)
    logger.warn('no recipe has an sns trigger on this topic', { records: event.Records });
  // Every recipe gets its start even if another's fails; a retried message finds the started ones running.
  const results = await Promise.allSettled(requests.map((r) => startBake(r, deps)));
  for (const r of results) if (r.status === 'fulfilled') countStart(r.value);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
});
