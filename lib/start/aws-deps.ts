import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ec2, events, sfn, ssm } from '../aws/clients.js';
import type { Config } from '../config.js';
import { EventNotPublishedError } from '../errors.js';
import { EVENT_SOURCE } from '../events.js';
import { resolveBase } from '../recipe/base-image.js';
import type { CatalogEntry } from '../recipe/catalog.js';
import { sfnExecutions } from './executions.js';
import { imagesWithContentKey } from './existing-images.js';
import type { StartDeps } from './start-bake.js';

/** The start path's side effects against AWS: used by startBake, the API and the CLI alike. */
export function awsStartDeps(c: Config, catalog: readonly CatalogEntry[]): StartDeps {
  const region = c.AWS_REGION;
  if (!c.STATE_MACHINE_ARN) throw new Error('invalid function environment: STATE_MACHINE_ARN is not set');
  return {
    catalog,
    buildRegion: region,
    resolveBase: (recipe) => resolveBase(recipe.base, { ec2: ec2(region), ssm: ssm(region), region }),
    imagesWithContentKey: (key, regions) => imagesWithContentKey(ec2, key, regions),
    executions: sfnExecutions(sfn(region), c.STATE_MACHINE_ARN),
    publishSkipped: async (detail) => {
      const { FailedEntryCount, Entries = [] } = await events(region).send(
        new PutEventsCommand({
          Entries: [
            {
              Source: EVENT_SOURCE,
              DetailType: 'Bake Skipped',
              Detail: JSON.stringify(detail),
              EventBusName: c.EVENT_BUS_NAME,
            },
          ],
        }),
      );
      if (FailedEntryCount)
        throw new EventNotPublishedError(`Bake Skipped: ${Entries[0]?.ErrorCode ?? 'unknown'}`);
    },
    now: () => new Date(),
  };
}
