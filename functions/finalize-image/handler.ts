import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { makeHandler } from '../../lib/handler.js';
import { copySchema, imageReadySchema, imageRefSchema, resolvedRecipeSchema } from '../../lib/state.js';
import { finalizeImage } from './core.js';

const input = z.object({
  recipe: resolvedRecipeSchema,
  image: imageRefSchema,
  imageReady: imageReadySchema,
  copies: z.array(copySchema).optional(),
});

export const handler = makeHandler(input, (event) => finalizeImage(event, { ec2, now: () => new Date() }));
