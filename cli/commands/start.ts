import { resolve } from 'node:path';
import { config } from '../../lib/config.js';
import { problemsOf } from '../../lib/problems.js';
import { type CatalogEntry, CatalogError, findRecipe, loadCatalog } from '../../lib/recipe/catalog.js';
import { awsStartDeps } from '../../lib/start/aws-deps.js';
import { type StartRequest, startRequestSchema } from '../../lib/start/request.js';
import { applyOverrides, startBake } from '../../lib/start/start-bake.js';
import { COMMON_HELP, COMMON_OPTIONS, onePositional, parse, showHelp } from '../args.js';
import { AwsConfigError, EXIT, UsageError } from '../errors.js';
import { type Io, printJson, table } from '../io.js';
import { parseSets, SET_HELP } from '../overrides.js';
import { targetFlags } from '../stack.js';
import { resolveTarget, TARGET_HELP, TARGET_OPTIONS, targetSpec } from '../target.js';

export const help = `Start a bake on the deployed stack, through the same start path as schedules, triggers and the
API: unless --force, nothing is baked when images with the same content (resolved base image +
recipe) already exist in every target region, and a running bake of the same content is returned
instead of starting a twin.

Only the recipe's NAME and the --set overrides are sent: the stack bakes the recipe it was deployed
with, never local files. The local catalog (--recipes-dir, default recipes/) is read to check the
request offline: the recipe must exist, and overrides and --force must be within what the recipe's
overrides section allows. To bake any file without AWS, use bake --local.

Usage:
  ami-bake start <recipe> [options]

Options:
  --reason <text>                why, recorded in the execution input and events
  --force                        bake even if images with the same content exist
  --idempotency-key <key>        the same key returns the same bake (retries are harmless)
  --set <path>=<value>           override for this bake (repeatable): ${SET_HELP}
  --recipes-dir <dir>            the catalog directory (default: recipes)
${TARGET_HELP}
${COMMON_HELP}

Exit codes: 0 started (or already running, or skipped), 2 bad input (unknown or invalid recipe,
bad --set; nothing was called), 3 AWS or configuration error (credentials, stack not found, access).

Examples:
  ami-bake start example-web --reason "CVE-2026-1234"
  ami-bake start recipes/example.yml --stage prod --region eu-west-1 --force
  ami-bake start example-web --set builder.instanceType=t3.large --set image.tags.ticket=OPS-42
  ami-bake start example-web --idempotency-key deploy-1842 --json | jq -r .bakeId`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...TARGET_OPTIONS,
  reason: { type: 'string' },
  force: { type: 'boolean', default: false },
  'idempotency-key': { type: 'string' },
  set: { type: 'string', multiple: true, default: [] as string[] },
  'recipes-dir': { type: 'string', default: 'recipes' },
} as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return showHelp(io, help);
  const progress = values.json ? () => {} : io.err;
  // Everything offline first: bad input exits 2 before any AWS call.
  const wanted = onePositional(positionals, 'a recipe name or a recipe file from the catalog');
  const spec = targetSpec(values, io.env);
  const overrides = parseSets(values.set);
  const catalog = await catalogFrom(values['recipes-dir']);
  const entry = findEntry(catalog, wanted, values['recipes-dir']);
  const request: StartRequest = {
    recipe: entry.recipe.name,
    overrides,
    reason: values.reason,
    force: values.force,
    idempotencyKey: values['idempotency-key'],
    source: 'cli',
  };
  const parsed = startRequestSchema.safeParse(request);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error.issues);
    throw new UsageError(problems.map((p) => `${p.path}: ${p.message}`).join('\n'), problems);
  }
  // Offline, the same bounds the start path and ResolveRecipe enforce: exit 2 before any AWS call.
  await applyOverrides(entry.recipe, parsed.data.overrides, parsed.data.force);

  if (!spec.stateMachineArn) progress(`Looking up stack ${spec.stackName}…`);
  const target = await resolveTarget(spec, io);
  progress(`Starting ${entry.recipe.name} on ${target.stateMachineArn}: resolving the base image…`);
  const deps = awsStartDeps(
    {
      ...config(),
      AWS_REGION: target.region,
      STATE_MACHINE_ARN: target.stateMachineArn,
      EVENT_BUS_NAME: target.eventBusName ?? '(unknown)',
    },
    catalog,
  );
  if (!target.eventBusName)
    deps.publishSkipped = async () => {
      throw new AwsConfigError(
        'images with this content exist already, but no event bus is known to publish Bake Skipped on: pass --event-bus-name, use --stage/--stack, or --force to bake anyway',
      );
    };
  const result = await startBake(request, deps);
  if (values.json) {
    printJson(io, { ...result, stateMachineArn: target.stateMachineArn, region: target.region });
    return EXIT.ok;
  }
  if (result.status === 'skipped') {
    io.out(
      `Skipped: images with this content (key ${result.contentKey.slice(0, 12)}…) exist in every region.`,
    );
    const rows = Object.entries(result.images).map(([r, i]) => [r, i.imageId, i.snapshotIds.join(', ')]);
    io.out(table(['Region', 'Image', 'Snapshots'], rows));
    io.out('Use --force to bake anyway.');
    return EXIT.ok;
  }
  io.out(
    result.status === 'started'
      ? `Started bake ${result.bakeId} (${result.recipe})`
      : `Bake ${result.bakeId} of the same ${request.idempotencyKey ? 'idempotency key' : 'content'} is already running; not starting another`,
  );
  io.out(`  execution: ${result.executionArn}`);
  io.out(`Follow it:  ami-bake watch ${result.bakeId}${targetFlags(values)}`);
  return EXIT.ok;
}

async function catalogFrom(dir: string): Promise<CatalogEntry[]> {
  try {
    return await loadCatalog(dir);
  } catch (error) {
    if (error instanceof CatalogError) throw new UsageError(error.message);
    throw new UsageError(`cannot read the recipe catalog ${dir}: ${(error as Error).message}`);
  }
}

function findEntry(catalog: readonly CatalogEntry[], wanted: string, dir: string): CatalogEntry {
  const byFile = catalog.find((e) => resolve(e.file) === resolve(wanted));
  const entry = byFile ?? findRecipe(catalog, wanted);
  if (entry) return entry;
  const known = catalog.map((e) => e.recipe.name).join(', ');
  throw new UsageError(
    `recipe ${wanted} is not in the catalog ${dir}/ (known: ${known || 'none'}); start bakes catalog recipes only, bake --local takes any file`,
  );
}
