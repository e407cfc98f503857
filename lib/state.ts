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
  // The loader inlines test.file too; ResolveRecipe reads recipes through it.
  if (r.test && r.test.script === undefined) {
    ctx.addIssue({ code: 'custom', path: ['test', 'script'], message: 'must be inline in state input' });
    return z.NEVER;
  }
  const { test, ...rest } = r;
  const resolved: Omit<typeof r, 'bootstrap' | 'test'> & {
    bootstrap: typeof r.bootstrap & { script: string };
    test?: Omit<NonNullable<typeof r.test>, 'file'> & { script: string };
  } = { ...rest, bootstrap: { ...r.bootstrap, script } };
  if (test) resolved.test = { ...test, script: test.script ?? '' };
  return resolved;
});
export type ResolvedRecipe = z.output<typeof resolvedRecipeSchema>;

export const bakeIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{7,79}$/, 'must be 8-80 lowercase letters, digits, dashes and underscores');

/** A recipe resolved for one bake: the state ResolveRecipe's core works on. */
export const bakeInputSchema = z.object({
  bakeId: bakeIdSchema,
  recipe: resolvedRecipeSchema,
  /** The one architecture this bake makes (a child of a group); default: the base image's. */
  architecture: z.enum(ARCHITECTURES).optional(),
  group: z.object({ bakeId: bakeIdSchema }).optional(),
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
  /**
   * Set by BakeArchitectures for each child execution of a group (decision 0006): the architecture
   * it bakes and the bake id of the request (the parent execution) it belongs to.
   */
  architecture: z.enum(ARCHITECTURES).optional(),
  group: z.object({ bakeId: bakeIdSchema }).optional(),
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
  /** AWS Marketplace product codes: the image is a Marketplace product's (absent when it has none). */
  productCodes: z.array(z.string()).optional(),
});
export type BaseImage = z.infer<typeof baseImageSchema>;

/** One test instance to launch from the new image. */
export const testTargetSchema = z.object({
  /** Absent: the type the builder ran on (builder.requirements picks it at launch). */
  instanceType: z.string().optional(),
});
export type TestTarget = z.infer<typeof testTargetSchema>;

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
  /**
   * The instance types LaunchBuilder may launch, in order: [builder.instanceType], or the types
   * builder.requirements found in the subnet's zone, cheapest first. Absent for executions started
   * before ResolveRecipe listed them (LaunchBuilder then launches builder.instanceType).
   */
  instanceTypes: z.array(z.string()).optional(),
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
    /** Each test instance's budget (test.timeoutMinutes); only when the recipe has `test`. */
    testSeconds: z.number().int().min(1).optional(),
  }),
  /**
   * One test instance per entry (the TestImage Map's items), only when the recipe has `test`: the
   * TestOrNot Choice skips the tests when this is absent.
   */
  tests: z.array(testTargetSchema).min(1).optional(),
  startedAt: iso,
  at: iso,
  /**
   * Several architectures (recipe `architectures`): all of them, each with its child's bake id,
   * in the parent and in every child. Absent for a single-architecture bake.
   */
  architectures: z.array(z.object({ architecture: z.enum(ARCHITECTURES), bakeId: bakeIdSchema })).optional(),
  /** The architecture this execution bakes: a child's, or a single bake's (its base image's). */
  architecture: z.enum(ARCHITECTURES).optional(),
  /** A child of a group: the request's (parent execution's) bake id. The Choice states read it. */
  group: z.object({ bakeId: bakeIdSchema }).optional(),
});
export type BakeContext = z.infer<typeof contextSchema>;

/** One RunInstances attempt of LaunchBuilder that EC2 refused for capacity, and why. */
export const launchAttemptSchema = z.object({
  instanceType: z.string(),
  market: z.enum(['on-demand', 'spot']),
  error: z.string(),
  message: z.string().optional(),
});
export type LaunchAttempt = z.infer<typeof launchAttemptSchema>;

export const builderSchema = z.object({
  instanceId: z.string(),
  region: z.string(),
  at: iso,
  /** The type and market the builder runs on (absent in results of older executions). */
  instanceType: z.string().optional(),
  market: z.enum(['on-demand', 'spot']).optional(),
  /** The attempts EC2 refused before this one, in order: why a later candidate was used. */
  attempts: z.array(launchAttemptSchema).optional(),
});
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

/** DistributeImage's result: what the recipe's parameter and launch templates now point at. */
export const distributedSchema = z.object({
  parameters: z.array(
    z.object({
      region: z.string(),
      architecture: z.string(),
      name: z.string(),
      imageId: z.string(),
      /** The value before this bake; absent when the parameter is new. */
      previous: z.string().optional(),
    }),
  ),
  launchTemplates: z.array(
    z.object({
      region: z.string(),
      architecture: z.string(),
      name: z.string(),
      imageId: z.string(),
      version: z.number().int(),
      /** Whether the new version was made the default. */
      isDefault: z.boolean(),
    }),
  ),
  at: iso,
});
export type Distributed = z.infer<typeof distributedSchema>;

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
