import * as z from 'zod';
import { RECIPE_NAME } from '../recipe/name.js';

/**
 * What may be changed for one bake without editing the recipe. Deliberately small: anything
 * else is a recipe change and belongs in review, not in a request.
 */
export const overridesSchema = z.strictObject({
  builder: z
    .strictObject({
      instanceType: z.string().optional(),
      subnetId: z.string().optional(),
      securityGroupIds: z.array(z.string()).optional(),
    })
    .optional(),
  bootstrap: z.strictObject({ timeoutMinutes: z.number().optional() }).optional(),
  image: z
    .strictObject({ description: z.string().optional(), tags: z.record(z.string(), z.string()).optional() })
    .optional(),
  distribution: z.strictObject({ regions: z.array(z.string()).optional() }).optional(),
});
export type Overrides = z.infer<typeof overridesSchema>;

export const START_SOURCES = ['api', 'cli', 'schedule', 'trigger', 'event'] as const;

/** One request shape for every way a bake starts: schedule, trigger, Bake Requested, API, CLI. */
export const startRequestSchema = z.strictObject({
  recipe: z.string().regex(RECIPE_NAME, 'must be a recipe name: lowercase letters, digits and dashes'),
  overrides: overridesSchema.optional(),
  reason: z.string().min(1).max(256).optional(),
  force: z.boolean().default(false),
  idempotencyKey: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 printable ASCII characters without spaces')
    .optional(),
  source: z.enum(START_SOURCES),
  /** For source `trigger`: which of the recipe's triggers fired (its `force` applies). */
  trigger: z.string().min(1).max(64).optional(),
});
export type StartRequest = z.input<typeof startRequestSchema>;
export type ParsedStartRequest = z.output<typeof startRequestSchema>;
