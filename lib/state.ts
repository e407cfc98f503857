import * as z from 'zod';
import { RECIPE_NAME } from './recipe/name.js';
import { ARCHITECTURES, recipeSchema } from './recipe/schema.js';
import { overridesSchema } from './start/request.js';

/**
 * The data that flows through the state machine. Every handler validates the part it reads with
 * these schemas (non-strict: the state carries more than one handler needs).
 */

/** A recipe whose user data is inline (the loader reads `bootstrap.file` before a bake starts). */
export const resolvedRecipeSchema = recipeSchema.transform((r, ctx) => {
  const script = r.bootstrap.script;
  if (script === undefined) {
    ctx.addIssue({ code: 'custom', path: ['bootstrap', 'script'], message: 'must be inline in state input' });
    return z.NEVER;
  }
  return { ...r, bootstrap: { ...r.bootstrap, script } };
});
export type ResolvedRecipe = z.output<typeof resolvedRecipeSchema>;

export const bakeIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{7,79}$/, 'must be 8-80 lowercase letters, digits, dashes and underscores');

/** A recipe resolved for one bake: the state ResolveRecipe's core works on. */
export const bakeInputSchema = z.object({
  bakeId: bakeIdSchema,
  recipe: resolvedRecipeSchema,
});
export type BakeInput = z.infer<typeof bakeInputSchema>;

/**
 * What an execution is started with: a recipe NAME and overrides, never a recipe. ResolveRecipe
 * loads the recipe from the catalog packaged with it and checks the overrides against the
 * recipe's own policy, so starting an execution grants no more than the catalog allows.
 */
export const executionInputSchema = z.object({
  bakeId: bakeIdSchema,
  recipeName: z.string().regex(RECIPE_NAME, 'must be a recipe name'),
  overrides: overridesSchema.optional(),
  /** Who asked and why (informational: recorded, never trusted). */
  request: z.object({ source: z.string(), reason: z.string().optional() }).optional(),
});
export type ExecutionInput = z.infer<typeof executionInputSchema>;

const iso = z.string().datetime({ offset: true });

export const baseImageSchema = z.object({
  imageId: z.string(),
  name: z.string(),
  ownerId: z.string(),
  architecture: z.enum(ARCHITECTURES),
  creationDate: z.string(),
  rootDeviceName: z.string(),
  /** Size of the base image's root snapshot: the smallest root volume a builder can have. */
  rootVolumeSizeGiB: z.number().int().min(1),
  platform: z.enum(['linux', 'windows']),
});
export type BaseImage = z.infer<typeof baseImageSchema>;

export const contextSchema = z.object({
  bakeId: bakeIdSchema,
  shortId: z.string(),
  recipeName: z.string(),
  recipeHash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Resolved base image + recipe content: equal keys mean an equal image (see lib/recipe/hash.ts). */
  contentKey: z.string().regex(/^[0-9a-f]{64}$/),
  buildRegion: z.string(),
  base: baseImageSchema,
  imageName: z.string(),
  copyTargets: z.array(z.object({ region: z.string(), kmsKeyId: z.string().optional() })),
  /** The build region's key from distribution.kmsKeyIds: encrypted builder volumes without their own use it. */
  buildKmsKeyId: z.string().optional(),
  /**
   * Where the builder runs and whether it gets a public IP, decided by ResolveRecipe after checking
   * the subnet can reach the EC2 API (lib/network/egress.ts). `note`: an assumption or a warning.
   * Optional only for executions started before ResolveRecipe decided it.
   */
  network: z
    .object({
      subnetId: z.string(),
      publicIp: z.boolean(),
      via: z.string().optional(),
      note: z.string().optional(),
    })
    .optional(),
  budgets: z.object({
    bootstrapSeconds: z.number().int().min(1),
    imageSeconds: z.number().int().min(1),
    copySeconds: z.number().int().min(1),
  }),
  startedAt: iso,
  at: iso,
});
export type BakeContext = z.infer<typeof contextSchema>;

export const builderSchema = z.object({ instanceId: z.string(), region: z.string(), at: iso });
export const bootstrapOutcomeSchema = z.object({
  outcome: z.literal('success'),
  exitCode: z.number(),
  at: iso,
});
export const stageDoneSchema = z.object({ at: iso });
export const imageRefSchema = z.object({ imageId: z.string(), region: z.string(), at: iso });
export const imageReadySchema = z.object({ imageId: z.string(), snapshotIds: z.array(z.string()), at: iso });
export const copySchema = z.object({
  region: z.string(),
  imageId: z.string(),
  snapshotIds: z.array(z.string()),
  at: iso,
});
export const regionalImagesSchema = z.record(
  z.string(),
  z.object({ imageId: z.string(), snapshotIds: z.array(z.string()) }),
);
export const finalizedSchema = z.object({ images: regionalImagesSchema, at: iso });

/** `$.failure` holds one key: the name of the state whose Catch fired. */
export const failureSchema = z.record(
  z.string(),
  z.object({ Error: z.string(), Cause: z.string().optional() }),
);

export const cleanupReportSchema = z.object({
  terminatedInstances: z.array(z.object({ region: z.string(), instanceId: z.string() })),
  deregisteredImages: z.array(z.object({ region: z.string(), imageId: z.string() })),
  deletedSnapshots: z.array(z.object({ region: z.string(), snapshotId: z.string() })),
  problems: z.array(z.string()),
});
export type CleanupReport = z.infer<typeof cleanupReportSchema>;

export const now = (): string => new Date().toISOString();
