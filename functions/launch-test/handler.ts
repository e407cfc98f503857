import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { contextSchema, resolvedRecipeSchema, testTargetSchema } from '../../lib/state.js';
import { launchTest } from './core.js';

const input = z.object({
  test: testTargetSchema,
  recipe: resolvedRecipeSchema,
  context: contextSchema,
  image: z.object({ imageId: z.string(), region: z.string() }),
  builder: z.object({ instanceType: z.string().optional() }).optional(),
});

export const handler = makeHandler(input, (event) => {
  const c = config();
  return launchTest(event, {
    ec2: ec2(c.AWS_REGION),
    instanceProfile: c.BUILDER_INSTANCE_PROFILE,
    securityGroupId: c.BUILDER_SECURITY_GROUP_ID,
    now: () => new Date(),
  });
});
