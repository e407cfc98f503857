import { z } from 'zod';

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
