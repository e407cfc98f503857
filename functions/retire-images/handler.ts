import { autoScaling } from '../../lib/aws/autoscaling.js';
import { ec2 } from '../../lib/aws/ec2.js';
import { events } from '../../lib/aws/eventbridge.js';
import { ssm } from '../../lib/aws/ssm.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { putBakeEvent } from '../../lib/publish.js';
import { loadCatalog } from '../../lib/recipe/catalog.js';
import { retireEventSchema, retireForOrder } from './core.js';

/**
 * After each Bake Succeeded (a rule on the project bus), daily (a schedule), or by hand with
 * `{ "recipe": "<name>", "dryRun": true }`: retires images beyond each recipe's `retention.keep`.
 */
export const handler = makeHandler(retireEventSchema, async (order) => {
  const c = config();
  return retireForOrder(order, {
    catalog: () => loadCatalog(c.RECIPES_DIR),
    buildRegion: c.AWS_REGION,
    stack: c.STACK_NAME,
    retention: { ec2, autoScaling, ssm, now: () => new Date() },
    publish: async (detail) => {
      await putBakeEvent(events(c.AWS_REGION), c.EVENT_BUS_NAME, 'Images Retired', detail);
    },
  });
});
