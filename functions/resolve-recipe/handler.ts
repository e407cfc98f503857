import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { ec2 } from '../../lib/aws/ec2.js';
import { kms } from '../../lib/aws/kms.js';
import { ssm } from '../../lib/aws/ssm.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { logger } from '../../lib/logger.js';
import { type CatalogEntry, loadCatalog } from '../../lib/recipe/catalog.js';
import { executionInputSchema } from '../../lib/state.js';
import { resolveFromCatalog } from './catalog.js';
import { resolveRecipe } from './core.js';

// Loaded once per container and directory: the packaged recipes do not change while it lives
// (locally, each bake's recipe file is its own catalog directory).
const catalogs = new Map<string, Promise<CatalogEntry[]>>();
function catalog(dir: string): Promise<CatalogEntry[]> {
  let loaded = catalogs.get(dir);
  if (!loaded) {
    loaded = loadCatalog(dir);
    catalogs.set(dir, loaded);
  }
  return loaded;
}

// Instance types described by this container, per region (issue 8: one DescribeInstanceTypes
// per cold container and region, not one per bake).
const instanceTypes = new Map<string, Promise<InstanceTypeInfo[]>>();

export const handler = makeHandler(executionInputSchema, async (input) => {
  const region = config().AWS_REGION;
  const deps = {
    ec2: ec2(region),
    ssm: ssm(region),
    kms,
    region,
    now: () => new Date(),
    instanceTypes,
    publishing: { ec2, ssm, stack: config().STACK_NAME },
  };
  const state = await resolveFromCatalog(input, {
    catalog: await catalog(config().RECIPES_DIR),
    resolve: (bake) => resolveRecipe(bake, deps),
  });
  // An assumed way out (transit gateway, NAT instance) or endpoints only: worth a look if the bake stalls.
  if (state.context.network?.note)
    logger.warn(state.context.network.note, { network: state.context.network });
  return state;
});
