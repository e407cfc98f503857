import { userInfo } from 'node:os';
import { ec2 } from '../../lib/aws/ec2.js';
import { events } from '../../lib/aws/eventbridge.js';
import { cancelBake } from '../../lib/bakes/cancel.js';
import { cleanup } from '../../lib/cleanup/core.js';
import { logger } from '../../lib/logger.js';
import { putBakeEvent } from '../../lib/publish.js';
import { COMMON_HELP, COMMON_OPTIONS, onePositional, parse, showHelp } from '../args.js';
import { AwsConfigError, EXIT } from '../errors.js';
import { type Io, printJson } from '../io.js';
import { bakeTarget } from '../stack.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const help = `Cancel a running bake: stop its execution, then do what its failure path would have done (a
stopped execution runs no more states): remove what it created, found by its tags in every
region, and publish Bake Failed with error BakeCancelled and the cleanup report.

Usage:
  ami-bake cancel <bakeId | executionArn> [options]

Options:
  --reason <text>                recorded in the cause and the Bake Failed event
${TARGET_HELP}
${COMMON_HELP}

Exit codes: 0 cancelled, 2 bad input, no such bake, or the bake is not running (it ended, or is
already failing and cleaning up), 3 AWS or configuration error.

Examples:
  ami-bake cancel example-web_0f3a9c1d2e4b_202611260524337a1c --reason "wrong base image"
  ami-bake cancel example-web_0f3a9c1d2e4b_202611260524337a1c --stage prod --json`;

const OPTIONS = { ...COMMON_OPTIONS, ...TARGET_OPTIONS, reason: { type: 'string' } } as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return showHelp(io, help);
  const id = onePositional(positionals, 'a bake id');
  const bake = await bakeTarget(id, values, io, values.json ? () => {} : io.err);
  // cancelBake logs for Lambda, on stdout; here the result says what it would log.
  logger.setLogLevel('SILENT');
  const result = await cancelBake(
    { bakeId: bake.bakeId, reason: values.reason, by: user(), via: 'the CLI' },
    {
      sfn: bake.sfn,
      stateMachineArn: bake.stateMachineArn,
      buildRegion: bake.region,
      cleanup: (input) => cleanup(input, { ec2 }),
      publishFailed: async (detail) => {
        if (!bake.eventBusName)
          throw new AwsConfigError('no event bus known: pass --event-bus-name or use --stage/--stack');
        await putBakeEvent(events(bake.region), bake.eventBusName, 'Bake Failed', detail);
      },
      now: io.now,
    },
  );
  if (values.json) {
    printJson(io, result);
    return EXIT.ok;
  }
  const c = result.cleanup;
  io.out(`Cancelled bake ${result.bakeId}${result.stage ? ` at ${result.stage}` : ''}.`);
  io.out(
    `Cleanup terminated ${c.terminatedInstances.length} instance(s), deregistered ${c.deregisteredImages.length} image(s), deleted ${c.deletedSnapshots.length} snapshot(s).`,
  );
  for (const problem of c.problems) io.err(`warning: not cleaned up: ${problem}`);
  if (!result.eventPublished)
    io.err(
      `warning: the Bake Failed event was not published${bake.eventBusName ? '' : ': no event bus known (pass --event-bus-name, or use --stage or --stack)'}`,
    );
  return EXIT.ok;
}

function user(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown user';
  }
}
