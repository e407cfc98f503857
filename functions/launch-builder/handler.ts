import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { contextSchema, resolvedRecipeSchema } from '../../lib/state.js';
import { launchBuilder } from './core.js';

const input = z.object({ recipe: resolvedRecipeSchema, context: contextSchema });

export const handler = makeHandler(input, (event) => {
  const c = config();
  return launchBuilder(event, {
    ec2: ec2(c.AWS_REGION),
    instanceProfile: c.BUILDER_INSTANCE_PROFILE,
    securityGroupId: c.BUILDER_SECURITY_GROUP_ID,
    now: () => new Date(),
  });
});
