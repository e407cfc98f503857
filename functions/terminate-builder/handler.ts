import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { terminateBuilder } from './core.js';

export const handler = makeHandler(z.object({ context: z.object({ bakeId: z.string() }) }), (input) =>
  terminateBuilder(input, { ec2: ec2(config().AWS_REGION), now: () => new Date() }),
);
