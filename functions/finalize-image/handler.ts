import { z } from 'zod';
import { ec2 } from '../../lib/aws/clients.js';
import { makeHandler } from '../../lib/handler.js';
import { contextSchema, copySchema, imageRefSchema, resolvedRecipeSchema } from '../../lib/state.js';
import { finalizeImage } from './core.js';

const input = z.object({
  recipe: resolvedRecipeSchema,
  context: contextSchema,
  image: imageRefSchema,
  copies: z.array(copySchema).optional(),
});

export const handler = makeHandler(input, (event) => finalizeImage(event, { ec2, now: () => new Date() }));
