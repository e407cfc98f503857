import { type StartBakeEvent, startBakeEventSchema, toStartRequest } from '../functions/start-bake/core.js';
import { config } from '../lib/config.js';
import type { CatalogEntry } from '../lib/recipe/catalog.js';
import { awsStartDeps } from '../lib/start/aws-deps.js';
import { type StartDeps, type StartResult, startBake } from '../lib/start/start-bake.js';
import type { LocalExecutions } from './executions.js';
import { type EventTap, tapEvents } from './stack.js';

/** The start path's dependencies against the emulator, with local bakes as executions. */
export function localStartDeps(o: {
  catalog: readonly CatalogEntry[];
  region: string;
  busName: string;
  executions: LocalExecutions;
}): StartDeps {
  // The same catalog the start path reads is the one the local executions resolve names in.
  if (o.executions.catalog.length === 0) o.executions.catalog = o.catalog;
  return awsStartDeps(
    { ...config(), AWS_REGION: o.region, EVENT_BUS_NAME: o.busName },
    o.catalog,
    o.executions,
  );
}

/**
 * The *Bake Requested* rule, played locally: the emulator cannot invoke a Lambda target, so the
 * rule delivers to a queue and `drain()` hands each event to the startBake function's own code.
 */
export async function bakeRequestedRule(region: string, busName: string, deps: StartDeps) {
  const tap: EventTap = await tapEvents(region, busName, 'bake-requested', {
    'detail-type': ['Bake Requested'],
  });
  return {
    async drain(): Promise<StartResult[]> {
      const results: StartResult[] = [];
      for (const event of await tap.read()) {
        results.push(
          await startBake(toStartRequest(startBakeEventSchema.parse(event) as StartBakeEvent), deps),
        );
      }
      return results;
    },
    remove: () => tap.remove(),
  };
}
