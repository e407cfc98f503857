import { ec2 } from '../aws/ec2.js';
import { events } from '../aws/eventbridge.js';
import { sfn } from '../aws/sfn.js';
import { ssm } from '../aws/ssm.js';
import type { Config } from '../config.js';
import { putBakeEvent } from '../publish.js';
import { baseFor } from '../recipe/architectures.js';
import { resolveBase } from '../recipe/base-image.js';
import type { CatalogEntry } from '../recipe/catalog.js';
import { type Executions, sfnExecutions } from './executions.js';
import { imagesWithContentKey } from './existing-images.js';
import type { StartDeps } from './start-bake.js';

/**
 * The start path's side effects against AWS: used by startBake, the API and the CLI alike, and
 * by the local runner with its own `executions` (local bakes instead of Step Functions).
 */
export function awsStartDeps(
  c: Config,
  catalog: readonly CatalogEntry[],
  executions?: Executions,
): StartDeps {
  const region = c.AWS_REGION;
  if (!executions && !c.STATE_MACHINE_ARN) {
    throw new Error('invalid function environment: STATE_MACHINE_ARN is not set');
  }
  return {
    catalog,
    buildRegion: region,
    // Several architectures: the first one's base keys the request (its children resolve their own).
    resolveBase: (recipe) =>
      resolveBase(baseFor(recipe.base, recipe.architectures?.[0]), {
        ec2: ec2(region),
        ssm: ssm(region),
        region,
      }),
    imagesWithContentKey: (key, regions) => imagesWithContentKey(ec2, key, regions),
    executions: executions ?? sfnExecutions(sfn(region), c.STATE_MACHINE_ARN ?? ''),
    publishSkipped: async (detail) => {
      await putBakeEvent(events(region), c.EVENT_BUS_NAME, 'Bake Skipped', detail);
    },
    now: () => new Date(),
    limits: { perRecipe: c.MAX_RUNNING_BAKES_PER_RECIPE, perStack: c.MAX_RUNNING_BAKES },
  };
}
