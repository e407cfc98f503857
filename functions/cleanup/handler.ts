import { z } from 'zod';
import { ec2 } from '../../lib/aws/clients.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { AWS_REGIONS } from '../../lib/regions.js';
import { cleanup } from './core.js';

/** Lenient on purpose: cleanup must run even when the bake's input was what failed validation. */
const input = z.object({
  bakeId: z.string().min(1),
  recipe: z
    .object({
      distribution: z
        .object({ regions: z.array(z.unknown()) })
        .partial()
        .optional(),
    })
    .optional()
    .catch(undefined),
});

export const handler = makeHandler(input, ({ bakeId, recipe }) => {
  const targets = (recipe?.distribution?.regions ?? []).filter((r): r is string =>
    (AWS_REGIONS as readonly unknown[]).includes(r),
  );
  return cleanup({ bakeId, regions: [config().AWS_REGION, ...targets] }, { ec2 });
});
