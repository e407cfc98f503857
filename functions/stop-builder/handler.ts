import { z } from 'zod';
import { ec2 } from '../../lib/aws/clients.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { builderSchema } from '../../lib/state.js';
import { stopBuilder } from './core.js';

export const handler = makeHandler(z.object({ builder: builderSchema }), (input) =>
  stopBuilder(input, { ec2: ec2(config().AWS_REGION), now: () => new Date() }),
);
