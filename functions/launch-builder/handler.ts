import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { config } from '../../lib/config.js';
import { MarketplaceSubscriptionRequiredError } from '../../lib/errors.js';
import { makeHandler } from '../../lib/handler.js';
import { optInMessage } from '../../lib/recipe/marketplace.js';
import { contextSchema, resolvedRecipeSchema } from '../../lib/state.js';
import { launchBuilder } from './core.js';

const input = z.object({ recipe: resolvedRecipeSchema, context: contextSchema });

export const handler = makeHandler(input, async (event, lambda) => {
  const c = config();
  try {
    return await launchBuilder(event, {
      ec2: ec2(c.AWS_REGION),
      instanceProfile: c.BUILDER_INSTANCE_PROFILE,
      securityGroupId: c.BUILDER_SECURITY_GROUP_ID,
      now: () => new Date(),
      remainingMs: () => lambda.getRemainingTimeInMillis(),
    });
  } catch (error) {
    // A Marketplace base the account has not subscribed to: say which product and where.
    const optIn = optInMessage(error, event.context.base);
    if (optIn) throw new MarketplaceSubscriptionRequiredError(optIn, { cause: error });
    throw error;
  }
});
