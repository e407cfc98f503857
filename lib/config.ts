import { z } from 'zod';
import { AWS_REGIONS } from './regions.js';

/**
 * Environment of the functions, parsed once at cold start. A missing or malformed variable fails
 * the first invocation with a message that names it, instead of a confusing AWS error later.
 */
const envSchema = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  EVENT_BUS_NAME: z.string().min(1).default('ami-bake'),
  WAIT_TABLE_NAME: z.string().min(1).default('ami-bake-waits'),
  BUILDER_INSTANCE_PROFILE: z.string().min(1).default('ami-bake-builder'),
  BUILDER_SECURITY_GROUP_ID: z.string().optional(),
  /** The bake state machine (startBake, api); built in serverless.yml. */
  STATE_MACHINE_ARN: z.string().optional(),
  /** Where the packaged recipes are, relative to the function's working directory. */
  RECIPES_DIR: z.string().min(1).default('recipes'),
  /** Set by the local runner and tests; unset in AWS. */
  AWS_ENDPOINT_URL: z.string().url().optional(),
  /** The sweeper: regions to sweep besides the build region and the catalog's (comma-separated). */
  SWEEP_EXTRA_REGIONS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r !== ''),
    )
    .pipe(z.array(z.enum(AWS_REGIONS))),
  /** The sweeper leaves resources of bakes it has no execution for until they are this old. */
  SWEEP_GRACE_HOURS: z.coerce.number().min(0).default(24),
  /**
   * What the sweeper removes of such bakes once they are old: `builders` (instances only) or
   * `everything`. Images of another stage in the account, and products whose execution Step
   * Functions no longer keeps (90 days), have no execution either: see docs/deploy.md, "Sweeper".
   */
  SWEEP_UNKNOWN_BAKES: z.enum(['builders', 'everything']).default('builders'),
  /** Attempts for SDK calls: AWS defaults to 3; the emulator answers unimplemented calls with 500, so tests use 1. */
  AWS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
});

export type Config = z.infer<typeof envSchema>;

let cached: Config | undefined;

export function config(env: NodeJS.ProcessEnv = process.env): Config {
  if (cached && env === process.env) return cached;
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid function environment: ${problems}`);
  }
  if (env === process.env) cached = parsed.data;
  return parsed.data;
}

/** For the local runner, which sets the environment after import. */
export function resetConfig(): void {
  cached = undefined;
}
