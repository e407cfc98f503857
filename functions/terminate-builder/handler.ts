import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { terminateBuilder } from './core.js';

const input = z.object({
  context: z.object({ bakeId: z.string() }),
  // The whole state arrives; only whether the recipe asked for Spot matters here.
  recipe: z
    .object({ builder: z.object({ spot: z.unknown() }).partial().optional() })
    .optional()
    .catch(undefined),
});

export const handler = makeHandler(input, (input) =>
  terminateBuilder(input, { ec2: ec2(config().AWS_REGION), now: () => new Date() }),
);
