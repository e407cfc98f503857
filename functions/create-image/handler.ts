import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { builderSchema, contextSchema, resolvedRecipeSchema } from '../../lib/state.js';
import { createImage } from './core.js';

const input = z.object({ recipe: resolvedRecipeSchema, context: contextSchema, builder: builderSchema });

export const handler = makeHandler(input, (event) =>
  createImage(event, { ec2: ec2(config().AWS_REGION), now: () => new Date() }),
);
