import { ec2, ssm } from '../../lib/aws/clients.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { bakeInputSchema } from '../../lib/state.js';
import { resolveRecipe } from './core.js';

export const handler = makeHandler(bakeInputSchema, (input) => {
  const region = config().AWS_REGION;
  return resolveRecipe(input, { ec2: ec2(region), ssm: ssm(region), region, now: () => new Date() });
});
