import * as z from 'zod';
import { problemsOf, problemsText } from './problems.js';
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
  /** The `ami-bake:stack` tag value on everything a bake creates (lib/tags.ts): serverless.yml sets it. */
  STACK_NAME: z.string().min(1).default('ami-bake-local'),
  /** The bake state machine (startBake, api); built in serverless.yml. */
  STATE_MACHINE_ARN: z.string().optional(),
  /** Where the packaged recipes are, relative to the function's working directory. */
  RECIPES_DIR: z.string().min(1).default('recipes'),
  /** The start path refuses a bake beyond these many running bakes of one recipe / of the stack. */
  MAX_RUNNING_BAKES_PER_RECIPE: z.coerce.number().int().min(1).default(5),
  MAX_RUNNING_BAKES: z.coerce.number().int().min(1).default(20),
  /** Who may start bakes with Bake Requested (comma-separated; serverless.yml sets both). */
  BAKE_REQUEST_SOURCES: z.string().default(''),
  BAKE_REQUEST_ACCOUNTS: z.string().default(''),
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
   * `everything`. Products whose execution Step Functions no longer keeps (90 days) have no
   * execution either: see docs/deploy.md, "Sweeper". Other stages' bakes are never looked at.
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
    throw new Error(`invalid function environment: ${problemsText(problemsOf(parsed.error.issues))}`);
  }
  if (env === process.env) cached = parsed.data;
  return parsed.data;
}

/** For the local runner, which sets the environment after import. */
export function resetConfig(): void {
  cached = undefined;
}
