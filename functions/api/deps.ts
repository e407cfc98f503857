import { autoScaling } from '../../lib/aws/autoscaling.js';
import { ec2 } from '../../lib/aws/ec2.js';
import { events } from '../../lib/aws/eventbridge.js';
import { type SfnSend, sfn as sfnClient } from '../../lib/aws/sfn.js';
import { ssm } from '../../lib/aws/ssm.js';
import type { CancelDeps } from '../../lib/bakes/cancel.js';
import { cleanup } from '../../lib/cleanup/core.js';
import type { Config } from '../../lib/config.js';
import { putBakeEvent } from '../../lib/publish.js';
import { type CatalogEntry, loadCatalog } from '../../lib/recipe/catalog.js';
import type { RetentionReport } from '../../lib/retention/core.js';
import { retireRecipe } from '../../lib/retention/run.js';
import { awsStartDeps } from '../../lib/start/aws-deps.js';
import type { StartDeps } from '../../lib/start/start-bake.js';

/** Everything the API does to the world; tests pass fakes. */
export interface ApiDeps {
  catalog: readonly CatalogEntry[];
  buildRegion: string;
  stateMachineArn: string;
  start: StartDeps;
  sfn: SfnSend;
  cleanup: CancelDeps['cleanup'];
  publishFailed: CancelDeps['publishFailed'];
  /** Retention for one catalog recipe with `retention` (lib/retention/run.ts); publishes Images Retired. */
  retire: (recipe: Parameters<typeof retireRecipe>[0], dryRun: boolean) => Promise<RetentionReport>;
  now: () => Date;
}

/** Built once per container: the packaged recipes and the environment do not change while it lives. */
export async function awsApiDeps(c: Config): Promise<ApiDeps> {
  const catalog = await loadCatalog(c.RECIPES_DIR);
  const start = awsStartDeps(c, catalog);
  const region = c.AWS_REGION;
  return {
    catalog,
    buildRegion: region,
    stateMachineArn: c.STATE_MACHINE_ARN ?? '',
    start,
    sfn: sfnClient(region),
    cleanup: (input) => cleanup(input, { ec2 }),
    publishFailed: async (detail) => {
      await putBakeEvent(events(region), c.EVENT_BUS_NAME, 'Bake Failed', detail);
    },
    retire: (recipe, dryRun) =>
      retireRecipe(
        recipe,
        { trigger: 'request', dryRun, stack: c.STACK_NAME, regions: [region] },
        {
          ec2,
          autoScaling,
          ssm,
          now: () => new Date(),
          publish: async (detail) => {
            await putBakeEvent(events(region), c.EVENT_BUS_NAME, 'Images Retired', detail);
          },
        },
      ),
    now: () => new Date(),
  };
}
