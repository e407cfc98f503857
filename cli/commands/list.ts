import { sfn } from '../../lib/aws/sfn.js';
import { listBakes } from '../../lib/bakes/list.js';
import { BAKE_STATUSES, type BakeStatusName } from '../../lib/bakes/status.js';
import { RECIPE_NAME } from '../../lib/recipe/name.js';
import { COMMON_HELP, COMMON_OPTIONS, parse, showHelp } from '../args.js';
import { EXIT, UsageError } from '../errors.js';
import { duration, type Io, printJson, table } from '../io.js';
import { resolveTarget, TARGET_HELP, TARGET_OPTIONS, targetSpec } from '../target.js';

export const help = `List the bakes of the deployed stack, newest first.

Usage:
  ami-bake list [options]

Options:
  --recipe <name>                only bakes of this recipe
  --status <status>              only bakes in this status: ${BAKE_STATUSES.join(', ')}
  --limit <n>                    at most n bakes (default: 20, at most 1000)
${TARGET_HELP}
${COMMON_HELP}

Exit codes: 0 listed (even none), 2 bad input, 3 AWS or configuration error.

Examples:
  ami-bake list
  ami-bake list --recipe example-web --status failed --limit 5
  ami-bake list --stage prod --status running --json | jq -r '.bakes[].bakeId'`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...TARGET_OPTIONS,
  recipe: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string', default: '20' },
} as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return showHelp(io, help);
  if (positionals.length > 0) throw new UsageError(`list takes no arguments, not ${positionals.join(' ')}`);
  const status = values.status?.toUpperCase();
  if (status !== undefined && !(BAKE_STATUSES as readonly string[]).includes(status))
    throw new UsageError(`--status ${values.status}: one of ${BAKE_STATUSES.join(', ')}`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError(`--limit ${values.limit}: give a whole number from 1 to 1000`);
  if (values.recipe !== undefined && !RECIPE_NAME.test(values.recipe))
    throw new UsageError(
      `--recipe ${values.recipe}: not a recipe name (lowercase letters, digits and dashes)`,
    );
  const spec = targetSpec(values, io.env);
  if (!spec.stateMachineArn && !values.json) io.err(`Looking up stack ${spec.stackName}…`);
  const target = await resolveTarget(spec, io);

  const shown = await listBakes(sfn(target.region), target.stateMachineArn, {
    recipe: values.recipe,
    status: status as BakeStatusName | undefined,
    limit,
  });

  if (values.json) {
    printJson(io, { stateMachineArn: target.stateMachineArn, bakes: shown });
    return EXIT.ok;
  }
  if (shown.length === 0) {
    io.out('No bakes found.');
    return EXIT.ok;
  }
  const rows = shown.map((b) => [
    b.bakeId,
    b.recipe || '-',
    b.status,
    b.startedAt?.replace(/\.\d+Z$/, 'Z') ?? '',
    b.startedAt
      ? duration(
          ((b.stoppedAt ? Date.parse(b.stoppedAt) : io.now().getTime()) - Date.parse(b.startedAt)) / 1000,
        )
      : '',
  ]);
  io.out(table(['Bake', 'Recipe', 'Status', 'Started', 'Duration'], rows));
  return EXIT.ok;
}
