import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type StartBakeEvent, startBakeEventSchema, toStartRequest } from '../functions/start-bake/core.js';
import { ec2, events, ssm } from '../lib/aws/clients.js';
import { EVENT_SOURCE } from '../lib/events.js';
import { resolveBase } from '../lib/recipe/base-image.js';
import type { CatalogEntry } from '../lib/recipe/catalog.js';
import { imagesWithContentKey } from '../lib/start/existing-images.js';
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
  return {
    catalog: o.catalog,
    buildRegion: o.region,
    resolveBase: (recipe) =>
      resolveBase(recipe.base, { ec2: ec2(o.region), ssm: ssm(o.region), region: o.region }),
    imagesWithContentKey: (key, regions) => imagesWithContentKey(ec2, key, regions),
    executions: o.executions,
    publishSkipped: async (detail) => {
      await events(o.region).send(
        new PutEventsCommand({
          Entries: [
            {
              Source: EVENT_SOURCE,
              DetailType: 'Bake Skipped',
              Detail: JSON.stringify(detail),
              EventBusName: o.busName,
            },
          ],
        }),
      );
    },
    now: () => new Date(),
  };
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
