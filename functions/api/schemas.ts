import * as z from 'zod';
import { BAKE_STATUSES } from '../../lib/bakes/status.js';
import { startRequestSchema } from '../../lib/start/request.js';
import { bakeIdSchema } from '../../lib/state.js';

/**
 * What the API accepts, built from the start path's own schema so the two cannot drift. The
 * idempotency key comes in a header and the source is always `api`: neither is a body field.
 */
export const startBodySchema = startRequestSchema.omit({ idempotencyKey: true, source: true });
export type StartBody = z.output<typeof startBodySchema>;

export const idempotencyKeySchema = startRequestSchema.shape.idempotencyKey.unwrap();
export const recipeNameSchema = startRequestSchema.shape.recipe;
export { bakeIdSchema };

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

export const listQuerySchema = z.strictObject({
  recipe: recipeNameSchema.optional(),
  status: z.enum(BAKE_STATUSES, { error: () => `must be one of ${BAKE_STATUSES.join(', ')}` }).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`))
    .optional(),
});

/** Optional: `dryRun: true` lists what retention would retire and changes nothing. */
export const retireBodySchema = z.strictObject({ dryRun: z.boolean().optional() });

/** Optional: why the bake is cancelled, recorded in the stopped execution and the Bake Failed event. */
export const cancelBodySchema = z.strictObject({ reason: z.string().min(1).max(256).optional() });
