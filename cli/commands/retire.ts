import { autoScaling } from '../../lib/aws/autoscaling.js';
import { ec2 } from '../../lib/aws/ec2.js';
import { events } from '../../lib/aws/eventbridge.js';
import { ssm } from '../../lib/aws/ssm.js';
import { config } from '../../lib/config.js';
import { putBakeEvent } from '../../lib/publish.js';
import { CatalogError, findRecipe, loadCatalog } from '../../lib/recipe/catalog.js';
import { loadRecipeFile } from '../../lib/recipe/load.js';
import { AWS_REGIONS } from '../../lib/regions.js';
import type { RetentionReport } from '../../lib/retention/core.js';
import { retireRecipe } from '../../lib/retention/run.js';
import type { ResolvedRecipe } from '../../lib/state.js';
import { COMMON_HELP, COMMON_OPTIONS, onePositional, parse, showHelp } from '../args.js';
import { EXIT, UsageError } from '../errors.js';
import { type Io, printJson, table } from '../io.js';
import { resolveTarget, TARGET_HELP, TARGET_OPTIONS, targetSpec } from '../target.js';

export const help = `Retire a recipe's images beyond its retention.keep, in every region, as the deployed
retireImages function does after each bake: deregister each image and delete its snapshots.
Images still in use (a launch template's default or latest version, a live instance, an Auto
Scaling launch configuration or group, the recipe's SSM parameter), protected from deregistration,
or of a bake still running are kept, and the output says why. Runs with your credentials; only
images tagged with the stack and the recipe are looked at.

Usage:
  ami-bake retire <recipe> [options]

<recipe> is a recipe name in the catalog (--recipes-dir) or a recipe file; it must have retention.

Options:
  --dry-run                      list what would be retired and why the rest is kept; deregister,
                                 delete and publish nothing
  --local                        the emulator at AWS_ENDPOINT_URL (the images of local bakes run
                                 against it, stack ami-bake-local) instead of a deployed stack
  --recipes-dir <dir>            the catalog directory (default: recipes)
${TARGET_HELP}
${COMMON_HELP}

Images Retired is published on the stack's bus after a real run that retired or kept something
for a reason other than "newest" (not with --dry-run).

Exit codes: 0 done (a dry run listed), 1 something could not be checked or removed (see the
problems; what could not be checked was kept), 2 bad input (unknown recipe, no retention),
3 AWS or configuration error.

Examples:
  ami-bake retire example-web --dry-run --stage prod --region eu-west-1
  ami-bake retire example-web --stage prod --json | jq '.regions'
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 ami-bake retire recipes/example.yml --local --dry-run`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...TARGET_OPTIONS,
  'dry-run': { type: 'boolean', default: false },
  local: { type: 'boolean', default: false },
  'recipes-dir': { type: 'string', default: 'recipes' },
} as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return showHelp(io, help);
  // Everything offline first: bad input exits 2 before any AWS call.
  const wanted = onePositional(positionals, 'a recipe name or a recipe file');
  const recipe = await recipeOf(wanted, values['recipes-dir']);
  const retention = recipe.retention;
  if (!retention)
    throw new UsageError(`recipe ${recipe.name} has no retention: add retention: {keep: N} to it`);
  const where = values.local ? localTarget(values.region, io) : await deployedTarget(values, io);
  const report = await retireRecipe(
    { ...recipe, retention },
    { trigger: 'request', dryRun: values['dry-run'], stack: where.stack, regions: [where.region] },
    {
      ec2,
      autoScaling,
      ssm,
      now: io.now,
      publish: where.bus
        ? async (detail) => {
            await putBakeEvent(events(where.region), where.bus ?? '', 'Images Retired', detail);
          }
        : undefined,
    },
  );
  if (values.json) printJson(io, report);
  else printReport(io, report);
  return report.problems.length > 0 ? EXIT.bakeFailed : EXIT.ok;
}

async function recipeOf(wanted: string, dir: string): Promise<ResolvedRecipe> {
  if (/\.ya?ml$/.test(wanted)) {
    const loaded = await loadRecipeFile(wanted);
    if (!loaded.ok) throw new UsageError(`${wanted}: the recipe is invalid`, loaded.problems);
    return loaded.recipe;
  }
  let catalog: Awaited<ReturnType<typeof loadCatalog>>;
  try {
    catalog = await loadCatalog(dir);
  } catch (error) {
    if (error instanceof CatalogError) throw new UsageError(error.message);
    throw new UsageError(`cannot read the recipe catalog ${dir}: ${(error as Error).message}`);
  }
  const entry = findRecipe(catalog, wanted);
  if (!entry) {
    const known = catalog.map((e) => e.recipe.name).join(', ');
    throw new UsageError(`recipe ${wanted} is not in the catalog ${dir}/ (known: ${known || 'none'})`);
  }
  return entry.recipe;
}

interface Where {
  region: string;
  /** The ami-bake:stack tag value of the images to look at. */
  stack: string;
  bus?: string;
}

function localTarget(region: string | undefined, io: Io): Where {
  if (!io.env.AWS_ENDPOINT_URL)
    throw new UsageError(
      '--local needs AWS_ENDPOINT_URL: the emulator your local bakes ran against (npm run bake starts and stops its own)',
    );
  const chosen = region ?? io.env.AWS_REGION ?? 'us-east-1';
  if (!(AWS_REGIONS as readonly string[]).includes(chosen))
    throw new UsageError(`unknown AWS region ${JSON.stringify(chosen)}`);
  // The local stack's tag and bus (local/stack.ts), as the local runner's handlers use them.
  return { region: chosen, stack: config().STACK_NAME, bus: config().EVENT_BUS_NAME };
}

async function deployedTarget(values: Parameters<typeof targetSpec>[0], io: Io): Promise<Where> {
  const spec = targetSpec(values, io.env);
  if (!spec.stateMachineArn) io.err(`Looking up stack ${spec.stackName}…`);
  const target = await resolveTarget(spec, io);
  // The stack tag is <service>-<stage>, the stack's name unless it was deployed under another one.
  return { region: target.region, stack: spec.stackName, bus: target.eventBusName };
}

function printReport(io: Io, r: RetentionReport): void {
  const rows = Object.entries(r.regions).flatMap(([region, { retired, kept }]) => [
    ...retired.map((i) => [
      region,
      i.imageId,
      i.bakeId,
      r.dryRun ? 'would retire' : 'retired',
      `snapshots ${i.deletedSnapshots.join(', ') || 'none'}`,
    ]),
    ...kept.map((i) => [
      region,
      i.imageId,
      i.bakeId,
      'kept',
      i.reasons.map((reason) => `${reason.kind}: ${reason.detail}`).join('; '),
    ]),
  ]);
  const regions = Object.keys(r.regions).join(', ');
  io.out(
    `Retention of ${r.recipe.name} (keep ${r.keep}) in ${regions}${r.dryRun ? ': dry run, nothing was changed' : ''}`,
  );
  io.out(
    rows.length > 0 ? table(['Region', 'Image', 'Bake', 'Action', 'Why'], rows) : 'No images of this recipe.',
  );
  for (const problem of r.problems) io.err(`warning: ${problem}`);
}
