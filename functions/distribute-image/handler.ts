import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { ssm } from '../../lib/aws/ssm.js';
import { makeHandler } from '../../lib/handler.js';
import { ARCHITECTURES } from '../../lib/recipe/schema.js';
import { copySchema, imageReadySchema, imageRefSchema, resolvedRecipeSchema } from '../../lib/state.js';
import { distributeImage } from './core.js';

// The whole state: bakedImages (lib/workflow/images.ts) reads the images from the parts it knows.
const input = z
  .object({
    bakeId: z.string(),
    recipe: resolvedRecipeSchema,
    context: z
      .object({
        base: z
          .object({ architecture: z.enum(ARCHITECTURES) })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
    image: imageRefSchema.optional(),
    imageReady: imageReadySchema.optional(),
    copies: z.array(copySchema).optional(),
  })
  .loose();

export const handler = makeHandler(input, (event) =>
  distributeImage(event, { ec2, ssm, now: () => new Date() }),
);
