import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { makeHandler } from '../../lib/handler.js';
import { contextSchema, imageRefSchema, resolvedRecipeSchema } from '../../lib/state.js';
import { copyImage } from './core.js';

const input = z.object({
  target: z.object({ region: z.string(), kmsKeyId: z.string().optional() }),
  context: contextSchema,
  image: imageRefSchema,
  recipe: resolvedRecipeSchema,
});

export const handler = makeHandler(input, (event) => copyImage(event, { ec2, now: () => new Date() }));
