import { ec2, kms, ssm } from '../../lib/aws/clients.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { logger } from '../../lib/logger.js';
import { bakeInputSchema } from '../../lib/state.js';
import { resolveRecipe } from './core.js';

export const handler = makeHandler(bakeInputSchema, async (input) => {
  const region = config().AWS_REGION;
  const context = await resolveRecipe(input, {
    ec2: ec2(region),
    ssm: ssm(region),
    kms,
    region,
    now: () => new Date(),
  });
  // An assumed way out (transit gateway, NAT instance) or endpoints only: worth a look if the bake stalls.
  if (context.network?.note) logger.warn(context.network.note, { network: context.network });
  return context;
});
