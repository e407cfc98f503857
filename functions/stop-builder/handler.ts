import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { builderSchema } from '../../lib/state.js';
import { stopBuilder } from './core.js';

const input = z.object({
  builder: builderSchema,
  bootstrap: z.object({ instanceState: z.string().optional() }).optional(),
});

export const handler = makeHandler(input, (event) =>
  stopBuilder(event, { ec2: ec2(config().AWS_REGION), now: () => new Date() }),
);
