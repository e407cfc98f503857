import { randomUUID } from 'node:crypto';
import type { BakeReport } from '../../lib/bakes/report.js';
import { type Timeline, timelineSchema } from '../../lib/bakes/timeline.js';
import { INPUT_ERROR_NAMES } from '../../lib/errors.js';
import { formatProblems, loadRecipeFile } from '../../lib/recipe/load.js';
import { AWS_REGIONS } from '../../lib/regions.js';
import type { LocalBakeResult, Progress } from '../../local/runner.js';
import { parse, showHelp } from '../args.js';
import { EXIT, UsageError } from '../errors.js';
import { type Io, printJson, table } from '../io.js';
import { HTML_OPTION, timelineBlock, writeHtmlReport } from '../report.js';

/**
 * `npm run bake -- <recipe>` and `ami-bake bake <recipe> --local`: one command, two front ends
 * (package.json's `bake` script runs `ami-bake bake --local`).
 */
export const help = `Bake an AMI locally: the real state machine and handlers against an AWS emulator (moto).
No AWS account needed; nothing leaves this machine.

Usage:
  ami-bake bake <recipe.yml> --local [options]
  npm run bake -- <recipe.yml> [options]

Options:
  --local                             required by ami-bake bake: bakes on a deployed stack use start and
                                      watch (npm run bake passes it)
  --json                              print one JSON result (status, bakeId, images, events) and nothing else
  --region <region>                   build region (default: $AWS_REGION, else us-east-1)
  --simulate-bootstrap-failure        the played builder reports that the recipe's script failed
  --simulate-bootstrap-hang           the played builder never reports; the bootstrap budget runs out
  --simulate-test-failure             the played test instances (recipe test) report that the test script exited 1
  --simulate-copy-failure <region>    EC2 reports the copy to <region> as failed (repeatable)
  --rehearse                          run on the \`realistic\` AWS-behaviour profile (launch 30 s, stop 60 s,
                                      image 4 min, copies 15 min in parallel, eventual consistency,
                                      throttling, late and duplicate events) on a 60x clock, and
                                      print how long each stage would take in AWS
  --bootstrap-minutes <n>             with --rehearse: how long the recipe's script runs (default 5)
  --html <file>                       also write the bake as one self-contained HTML page (timeline,
                                      images per region, events) to share in a review
  --print-input                       print the state machine input for this recipe (to start a deployed
                                      bake with aws stepfunctions start-execution) and exit; creates nothing
  --verbose                           also print the handlers' structured logs
  --debug                             print stack traces of errors
  -h, --help                          show this help

Environment:
  AWS_ENDPOINT_URL   use the emulator at this URL instead of starting one (e.g. a moto server you run)

Exit codes: 0 bake succeeded, 1 bake failed (and was cleaned up), 2 bad input (nothing was created),
  3 unexpected error (e.g. the emulator unreachable; with --json: {"status":"error","error":{name,message}}),
  4 images baked and kept, but Bake Succeeded could not be published.

Examples:
  ami-bake bake recipes/example.yml --local --simulate-copy-failure eu-west-1
  npm run bake -- recipes/example.yml
  npm run bake -- recipes/example.yml --json | jq .images
  npm run bake -- recipes/example.yml --simulate-bootstrap-failure
  npm run bake -- recipes/example.yml --rehearse --bootstrap-minutes 12`;

const OPTIONS = {
  local: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  debug: { type: 'boolean', default: false },
  region: { type: 'string' },
  'simulate-bootstrap-failure': { type: 'boolean', default: false },
  'simulate-bootstrap-hang': { type: 'boolean', default: false },
  'simulate-test-failure': { type: 'boolean', default: false },
  'simulate-copy-failure': { type: 'string', multiple: true, default: [] as string[] },
  verbose: { type: 'boolean', default: false },
  'print-input': { type: 'boolean', default: false },
  rehearse: { type: 'boolean', default: false },
  'bootstrap-minutes': { type: 'string' },
  ...HTML_OPTION,
  help: { type: 'boolean', short: 'h', default: false },
} as const;

interface Options {
  file: string;
  json: boolean;
  region?: string;
  failure: boolean;
  hang: boolean;
  failTest: boolean;
  failCopy: string[];
  verbose: boolean;
  printInput: boolean;
  rehearse: boolean;
  bootstrapMinutes?: number;
  html?: string;
}

/** Bad arguments throw UsageError: cli/main.ts answers them as for every command (exit 2). */
function options(argv: string[]): Options | 'help' {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return 'help';
  if (!values.local)
    throw new UsageError(
      'bake runs locally and needs --local; to bake on a deployed stack: ami-bake start <recipe>, then ami-bake watch <bakeId>',
    );
  if (positionals.length !== 1)
    throw new UsageError('give exactly one recipe file, e.g. npm run bake -- recipes/example.yml');
  const unknown = [values.region, ...values['simulate-copy-failure']].find(
    (r) => r !== undefined && !(AWS_REGIONS as readonly string[]).includes(r),
  );
  if (unknown !== undefined) throw new UsageError(`unknown AWS region ${JSON.stringify(unknown)}`);
  if (values['simulate-bootstrap-failure'] && values['simulate-bootstrap-hang'])
    throw new UsageError('--simulate-bootstrap-failure and --simulate-bootstrap-hang exclude each other');
  const minutes = values['bootstrap-minutes'];
  if (minutes !== undefined && !values.rehearse) throw new UsageError('--bootstrap-minutes needs --rehearse');
  if (minutes !== undefined && !(Number(minutes) >= 0 && Number(minutes) <= 1440))
    throw new UsageError(
      `--bootstrap-minutes must be a number of minutes from 0 to 1440, not ${JSON.stringify(minutes)}`,
    );
  return {
    file: positionals[0] ?? '',
    json: values.json,
    region: values.region,
    failure: values['simulate-bootstrap-failure'],
    hang: values['simulate-bootstrap-hang'],
    failTest: values['simulate-test-failure'],
    failCopy: values['simulate-copy-failure'],
    verbose: values.verbose,
    printInput: values['print-input'],
    rehearse: values.rehearse,
    bootstrapMinutes: minutes === undefined ? undefined : Number(minutes),
    ...(values.html ? { html: values.html } : {}),
  };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const o = options(argv);
  if (o === 'help') return showHelp(io, help);
  try {
    return await bake(o, io);
  } catch (error) {
    if (argv.includes('--debug') && error instanceof Error && error.stack) io.err(error.stack);
    return unexpected(error, o.json, io);
  }
}

/**
 * Anything the bake did not expect (the emulator unreachable, a bug) is still one answer: one JSON
 * object with --json, else one line; exit 3.
 */
function unexpected(error: unknown, json: boolean, io: Io): number {
  const name = error instanceof Error ? error.name : 'Error';
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  if (json) printJson(io, { status: 'error', error: { name, message } });
  else io.err(`ami-bake: ${name}: ${message}`);
  return EXIT.aws;
}

async function bake(o: Options, io: Io): Promise<number> {
  const loaded = await loadRecipeFile(o.file);
  if (!loaded.ok) {
    if (o.json) printJson(io, { status: 'invalid', file: o.file, problems: loaded.problems });
    else io.err(formatProblems(o.file, loaded.problems));
    return EXIT.badInput;
  }
  if (o.printInput) {
    // The recipe's name only: a deployed ResolveRecipe loads the recipe from the stack's catalog.
    printJson(io, { bakeId: randomUUID(), recipeName: loaded.recipe.name });
    return EXIT.ok;
  }
  const human = !o.json;
  if (human)
    io.out(
      o.rehearse
        ? `Rehearsing ${loaded.recipe.name} from ${o.file} (local, realistic AWS timing on a 60x clock; durations are AWS time)`
        : `Baking ${loaded.recipe.name} from ${o.file} (local: emulated AWS, nothing leaves this machine)`,
    );
  // Loaded on use, after the first line: the runner brings the handlers, the interpreter and the
  // SDK clients, which no other command needs.
  const { runLocalBake } = await import('../../local/runner.js');
  const result = await runLocalBake({
    recipe: loaded.recipe,
    region: o.region,
    ...(o.rehearse
      ? {
          profile: 'realistic' as const,
          bootstrapSeconds: o.bootstrapMinutes === undefined ? undefined : o.bootstrapMinutes * 60,
        }
      : {}),
    builder: o.hang ? 'hang' : o.failure ? 'fail' : 'succeed',
    testInstances: o.failTest ? 'fail' : 'succeed',
    failCopyRegions: o.failCopy,
    verbose: o.verbose,
    onProgress: human
      ? (p) => printProgress(io, p, o.rehearse)
      : (p) => p.kind === 'emulator' && io.err(p.message),
  });
  if (o.json) printJson(io, jsonResult(result));
  else printResult(io, result);
  if (o.html) {
    const path = writeHtmlReport(o.html, htmlReport(result, io.now()));
    if (!o.json) io.out(`HTML report: ${path}`);
  }
  if (result.status === 'succeeded') return EXIT.ok;
  if (result.status === 'unannounced') return EXIT.notAnnounced;
  return result.failure && INPUT_ERROR_NAMES.includes(result.failure.error) ? EXIT.badInput : EXIT.bakeFailed;
}

function jsonResult(r: LocalBakeResult) {
  return {
    status: r.status,
    bakeId: r.bakeId,
    recipe: r.recipe,
    imageName: r.imageName,
    images: r.images,
    failure: r.failure,
    profile: r.profile,
    stages: r.stages,
    events: r.events.map((e) => ({ detailType: e['detail-type'], source: e.source, detail: e.detail })),
    durationSeconds: r.durationSeconds,
    ...(r.retention ? { retention: r.retention } : {}),
  };
}

const marks = { start: '…', done: '✓', failed: '✗' } as const;

function printProgress(io: Io, p: Progress, rehearse: boolean) {
  if (p.kind === 'emulator') {
    io.out(`  emulator: ${p.message}`);
    return;
  }
  if (p.phase === 'start') return; // the line comes when the stage ends, with its duration
  const time = rehearse
    ? awsDuration(p.awsSeconds ?? 0)
    : p.seconds === undefined
      ? ''
      : `${p.seconds.toFixed(2)}s`;
  io.out(`  ${marks[p.phase]} ${p.label.padEnd(26)} ${time.padStart(7)}  ${p.note ?? ''}`.trimEnd());
}

/** 4m 05s, 1h 02m, 12s: how long a stage would take in AWS. */
export function awsDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function printResult(io: Io, r: LocalBakeResult) {
  const lines: string[] = [''];
  if (r.status === 'succeeded' || r.status === 'unannounced') {
    // Several architectures: every image, by architecture and region.
    const rows = r.architectures
      ? Object.entries(r.architectures).flatMap(([architecture, images]) =>
          Object.entries(images ?? {}).map(([region, i]) => [
            `${region} ${architecture}`,
            i.imageId,
            i.snapshotIds.join(', '),
          ]),
        )
      : Object.entries(r.images).map(([region, i]) => [region, i.imageId, i.snapshotIds.join(', ')]);
    lines.push(table(['Region', 'Image', 'Snapshots'], rows));
  }
  lines.push('', 'Events published:');
  for (const e of r.events) {
    const d = e.detail as { stage?: string; error?: string };
    lines.push(`  ${e['detail-type']}${d.stage ? ` (stage ${d.stage}: ${d.error})` : ''}`);
  }
  lines.push(...retentionLines(r));
  lines.push(...timelineBlock(timelineOf(r)));
  lines.push('');
  if (r.profile === 'realistic') {
    const total = r.stages.reduce((sum, st) => sum + st.awsSeconds, 0);
    const copies = r.stages.filter((st) => st.state === 'CopyImage' || st.state === 'WaitForCopy');
    const longestCopy = Math.max(0, ...regionsOf(copies).map((region) => sumFor(copies, region)));
    const serial = total - copies.reduce((sum, st) => sum + st.awsSeconds, 0) + longestCopy;
    lines.push(
      `Rehearsal: in AWS this bake would take about ${awsDuration(serial)} (copies run in parallel; ${r.durationSeconds.toFixed(1)}s here).`,
    );
  }
  if (r.status === 'succeeded') {
    lines.push(`Bake ${r.bakeId} succeeded in ${r.durationSeconds.toFixed(1)}s: ${r.imageName}`);
  } else if (r.status === 'unannounced') {
    lines.push(
      `Bake ${r.bakeId} baked ${r.imageName}, but Bake Succeeded could not be published.`,
      `The images above exist and were kept (${r.failure?.error}: ${r.failure?.cause}).`,
    );
  } else {
    lines.push(
      `Bake ${r.bakeId} FAILED at ${r.failure?.stage}: ${r.failure?.error}: ${r.failure?.cause}`,
      'Everything the bake created was removed (see the Bake Failed event for the list).',
    );
  }
  io.out(lines.join('\n'));
}

function regionsOf(stages: LocalBakeResult['stages']): string[] {
  return [...new Set(stages.map((st) => st.label.split(' ')[1] ?? ''))];
}

function sumFor(stages: LocalBakeResult['stages'], region: string): number {
  return stages.filter((st) => st.label.endsWith(` ${region}`)).reduce((sum, st) => sum + st.awsSeconds, 0);
}

/** What retention did after the bake (recipes with `retention`), one line per image it judged. */
function retentionLines(r: LocalBakeResult): string[] {
  const lines: string[] = [];
  for (const report of r.retention ?? []) {
    lines.push('', `Retention (keep ${report.keep}):`);
    for (const [region, { retired, kept }] of Object.entries(report.regions)) {
      for (const i of retired)
        lines.push(
          `  ${region}  retired ${i.imageId} (bake ${i.bakeId}), snapshots ${i.deletedSnapshots.join(', ') || 'none'}`,
        );
      for (const i of kept)
        lines.push(
          `  ${region}  kept    ${i.imageId} (bake ${i.bakeId}): ${i.reasons.map((x) => `${x.kind}: ${x.detail}`).join('; ')}`,
        );
    }
    for (const problem of report.problems) lines.push(`  problem: ${problem}`);
  }
  return lines;
}

/** The timeline Bake Succeeded or Bake Failed carried (publishEvent drew it from the states' times). */
function timelineOf(r: LocalBakeResult): Timeline | undefined {
  const ended = r.events.find(
    (e) => e['detail-type'] === 'Bake Succeeded' || e['detail-type'] === 'Bake Failed',
  );
  const parsed = timelineSchema.safeParse(ended?.detail.timeline);
  return parsed.success ? parsed.data : undefined;
}

function htmlReport(r: LocalBakeResult, now: Date): BakeReport {
  const images = r.architectures
    ? Object.entries(r.architectures).flatMap(([architecture, byRegion]) =>
        Object.entries(byRegion ?? {}).map(([region, i]) => ({ architecture, region, ...i })),
      )
    : Object.entries(r.images).map(([region, i]) => ({ region, ...i }));
  return {
    bakeId: r.bakeId,
    recipe: r.recipe,
    status: r.status,
    timeline: timelineOf(r),
    images,
    ...(r.failure ? { failure: r.failure } : {}),
    events: r.events.map((e) => ({ detailType: e['detail-type'], detail: e.detail })),
    generatedAt: now.toISOString(),
  };
}
