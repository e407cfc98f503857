import { type BakeSummary, fetchBake, summarizeBake } from '../../lib/bakes/status.js';
import { COMMON_HELP, COMMON_OPTIONS, onePositional, parse, showHelp } from '../args.js';
import { EXIT, UsageError } from '../errors.js';
import { headline, outcome, stageLine } from '../format.js';
import { type Io, printJson } from '../io.js';
import { bakeTarget } from '../stack.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';
import { unknownBake } from './status.js';

export const help = `Follow a bake on the deployed stack: print each stage as it completes, with its duration, then
the images or the failure. Polls with backoff: every --interval seconds while stages move,
slowing down to once a minute while one stage (a bootstrap, an image copy) takes long.

Usage:
  ami-bake watch <bakeId | executionArn> [options]

Options:
  --interval <seconds>           poll interval while stages move (default: 10)
${TARGET_HELP}
${COMMON_HELP}

Exit codes: 0 the bake succeeded, 1 it failed, timed out or was cancelled, 2 bad input or no such
bake, 3 AWS or configuration error, 4 its images were made and kept but Bake Succeeded could not
be published (consumers were not told).

Examples:
  ami-bake watch example-web_0f3a9c1d2e4b_202611260524337a1c
  ami-bake watch "$(ami-bake start example-web --json | jq -r .bakeId)" && echo baked
  ami-bake watch example-web_0f3a9c1d2e4b_202611260524337a1c --json --interval 30`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...TARGET_OPTIONS,
  interval: { type: 'string', default: '10' },
} as const;
const SLOWEST_SECONDS = 60;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return showHelp(io, help);
  const id = onePositional(positionals, 'a bake id');
  const interval = Number(values.interval);
  if (!Number.isFinite(interval) || interval <= 0 || interval > 3600)
    throw new UsageError(`--interval ${values.interval}: give seconds between 0 and 3600`);
  const human = !values.json;
  const bake = await bakeTarget(id, values, io, human ? io.err : () => {});
  const shown = new Set<string>();
  let delay = interval;
  for (let first = true; ; first = false) {
    const fetched = await fetchBake(bake.sfn, bake.stateMachineArn, bake.bakeId);
    if (!fetched) throw unknownBake(bake);
    const status = summarizeBake(fetched);
    if (human && first) io.out(headline(status, io.now()));
    const moved = human ? printNewStages(status, shown, io) : progressKey(status, shown);
    if (status.status !== 'RUNNING') {
      if (values.json) printJson(io, status);
      else io.out([...outcome(status), '', headline(status, io.now())].join('\n'));
      if (status.announced === false) return EXIT.notAnnounced;
      return status.status === 'SUCCEEDED' ? EXIT.ok : EXIT.bakeFailed;
    }
    // Back off while nothing moves; a long stage (bootstrap, copies) is polled once a minute.
    delay = moved ? interval : Math.min(delay * 1.5, Math.max(interval, SLOWEST_SECONDS));
    await io.sleep(delay * 1000);
  }
}

/** Prints stages that started or ended since the last poll, in the order they ended; true when something moved. */
function printNewStages(status: BakeSummary, shown: Set<string>, io: Io): boolean {
  const fresh = status.stages.filter((stage) => {
    const key = `${stage.name}@${stage.enteredAt}:${stage.outcome}`;
    if (shown.has(key)) return false;
    shown.add(key);
    return true;
  });
  // A running stage is shown once when it starts, on stderr (progress); finished ones are the record.
  for (const stage of fresh.filter((s) => s.outcome === 'running')) io.err(stageLine(stage, io.now()));
  const ended = fresh.filter((s) => s.outcome !== 'running');
  ended.sort((a, b) => Date.parse(a.exitedAt ?? a.enteredAt) - Date.parse(b.exitedAt ?? b.enteredAt));
  for (const stage of ended) io.out(stageLine(stage, io.now()));
  return fresh.length > 0;
}

function progressKey(status: BakeSummary, seen: Set<string>): boolean {
  const key = status.stages.map((s) => `${s.name}:${s.outcome}`).join(',');
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}
