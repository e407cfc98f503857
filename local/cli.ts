import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { table } from '../cli/io.js';
import { INPUT_ERROR_NAMES } from '../lib/errors.js';
import { formatProblems, loadRecipeFile } from '../lib/recipe/load.js';
import { AWS_REGIONS } from '../lib/regions.js';
import type { LocalBakeResult, Progress } from './runner.js';

const HELP = `Bake an AMI locally: the real state machine and handlers against an AWS emulator (moto).
No AWS account needed; nothing leaves this machine.

Usage:
  npm run bake -- <recipe.yml> [options]

Options:
  --json                              print one JSON result (status, bakeId, images, events) and nothing else
  --region <region>                   build region (default: $AWS_REGION, else us-east-1)
  --simulate-bootstrap-failure        the played builder reports that the recipe's script failed
  --simulate-bootstrap-hang           the played builder never reports; the bootstrap budget runs out
  --simulate-copy-failure <region>    EC2 reports the copy to <region> as failed (repeatable)
  --rehearse                          run on the \`realistic\` AWS-behaviour profile (launch 30 s, stop 60 s,
                                      image 4 min, copies 15 min in parallel, eventual consistency,
                                      throttling, late and duplicate events) on a 60x clock, and
                                      print how long each stage would take in AWS
  --bootstrap-minutes <n>             with --rehearse: how long the recipe's script runs (default 5)
  --print-input                       print the state machine input for this recipe (to start a deployed
                                      bake with aws stepfunctions start-execution) and exit; creates nothing
  --verbose                           also print the handlers' structured logs
  -h, --help                          show this help

Environment:
  AWS_ENDPOINT_URL   use the emulator at this URL instead of starting one (e.g. a moto server you run)

Exit codes: 0 bake succeeded, 1 bake failed (and was cleaned up), 2 bad input (nothing was created),
  3 unexpected error (e.g. the emulator unreachable; with --json: {"status":"error","error":{name,message}}),
  4 images baked and kept, but Bake Succeeded could not be published.

Examples:
  npm run bake -- recipes/example.yml
  npm run bake -- recipes/example.yml --json | jq .images
  npm run bake -- recipes/example.yml --simulate-bootstrap-failure
  npm run bake -- recipes/example.yml --rehearse --bootstrap-minutes 12`;

type Options = {
  json: boolean;
  region?: string;
  failure: boolean;
  hang: boolean;
  failCopy: string[];
  verbose: boolean;
  printInput: boolean;
  rehearse: boolean;
  bootstrapMinutes?: number;
  file: string;
};

function parse(argv: string[]): Options | { help: true } | { error: string } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        region: { type: 'string' },
        'simulate-bootstrap-failure': { type: 'boolean', default: false },
        'simulate-bootstrap-hang': { type: 'boolean', default: false },
        'simulate-copy-failure': { type: 'string', multiple: true, default: [] },
        verbose: { type: 'boolean', default: false },
        'print-input': { type: 'boolean', default: false },
        rehearse: { type: 'boolean', default: false },
        'bootstrap-minutes': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) return { help: true };
    if (positionals.length !== 1)
      return { error: 'give exactly one recipe file, e.g. npm run bake -- recipes/example.yml' };
    const regions = [values.region, ...values['simulate-copy-failure']].filter(
      (r): r is string => r !== undefined,
    );
    const unknown = regions.find((r) => !(AWS_REGIONS as readonly string[]).includes(r));
    if (unknown) return { error: `unknown AWS region ${JSON.stringify(unknown)}` };
    if (values['simulate-bootstrap-failure'] && values['simulate-bootstrap-hang']) {
      return { error: '--simulate-bootstrap-failure and --simulate-bootstrap-hang exclude each other' };
    }
    const minutes = values['bootstrap-minutes'];
    if (minutes !== undefined && !values.rehearse) return { error: '--bootstrap-minutes needs --rehearse' };
    if (minutes !== undefined && !(Number(minutes) >= 0 && Number(minutes) <= 1440))
      return {
        error: `--bootstrap-minutes must be a number of minutes from 0 to 1440, not ${JSON.stringify(minutes)}`,
      };
    return {
      rehearse: values.rehearse,
      bootstrapMinutes: minutes === undefined ? undefined : Number(minutes),
      json: values.json,
      region: values.region,
      failure: values['simulate-bootstrap-failure'],
      hang: values['simulate-bootstrap-hang'],
      failCopy: values['simulate-copy-failure'],
      verbose: values.verbose,
      printInput: values['print-input'],
      file: positionals[0] ?? '',
    };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

export async function main(argv: string[]): Promise<number> {
  // The SDK's multi-line warning about Node < 22 would bury the bake's output; the README says
  // which Node to use, and package.json pins the SDK release.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options = parse(argv);
  if ('help' in options) {
    console.log(HELP);
    return 0;
  }
  if ('error' in options) {
    console.error(`error: ${options.error}\nRun with --help for usage.`);
    return 2;
  }
  try {
    return await bake(options);
  } catch (error) {
    return unexpected(error, options.json);
  }
}

/**
 * Anything the bake did not expect (the emulator unreachable, a bug) is still one answer: one JSON
 * object with --json, as `ami-bake … --json` gives, else one line; exit 3.
 */
function unexpected(error: unknown, json: boolean): number {
  const name = error instanceof Error ? error.name : 'Error';
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  if (json) console.log(JSON.stringify({ status: 'error', error: { name, message } }, null, 2));
  else console.error(`ami-bake: ${name}: ${message}`);
  return 3;
}

async function bake(options: Options): Promise<number> {
  const loaded = await loadRecipeFile(options.file);
  if (!loaded.ok) {
    if (options.json)
      console.log(
        JSON.stringify({ status: 'invalid', file: options.file, problems: loaded.problems }, null, 2),
      );
    else console.error(formatProblems(options.file, loaded.problems));
    return 2;
  }
  if (options.printInput) {
    // The recipe's name only: a deployed ResolveRecipe loads the recipe from the stack's catalog.
    console.log(JSON.stringify({ bakeId: randomUUID(), recipeName: loaded.recipe.name }, null, 2));
    return 0;
  }
  const { runLocalBake } = await import('./runner.js');
  const human = !options.json;
  if (human)
    console.log(
      options.rehearse
        ? `Rehearsing ${loaded.recipe.name} from ${options.file} (local, realistic AWS timing on a 60x clock; durations are AWS time)`
        : `Baking ${loaded.recipe.name} from ${options.file} (local: emulated AWS, nothing leaves this machine)`,
    );
  const result = await runLocalBake({
    recipe: loaded.recipe,
    region: options.region,
    ...(options.rehearse
      ? {
          profile: 'realistic' as const,
          bootstrapSeconds:
            options.bootstrapMinutes === undefined ? undefined : options.bootstrapMinutes * 60,
        }
      : {}),
    builder: options.hang ? 'hang' : options.failure ? 'fail' : 'succeed',
    failCopyRegions: options.failCopy,
    verbose: options.verbose,
    onProgress: human
      ? (p) => printProgress(p, options.rehearse)
      : (p) => p.kind === 'emulator' && console.error(p.message),
  });
  if (options.json) {
    console.log(JSON.stringify(jsonResult(result), null, 2));
  } else {
    printResult(result);
  }
  if (result.status === 'succeeded') return 0;
  if (result.status === 'unannounced') return 4;
  return result.failure && INPUT_ERROR_NAMES.includes(result.failure.error) ? 2 : 1;
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
  };
}

const marks = { start: '…', done: '✓', failed: '✗' } as const;

function printProgress(p: Progress, rehearse: boolean) {
  if (p.kind === 'emulator') {
    console.log(`  emulator: ${p.message}`);
    return;
  }
  if (p.phase === 'start') return; // the line comes when the stage ends, with its duration
  const time = rehearse
    ? awsDuration(p.awsSeconds ?? 0)
    : p.seconds === undefined
      ? ''
      : `${p.seconds.toFixed(2)}s`;
  console.log(`  ${marks[p.phase]} ${p.label.padEnd(26)} ${time.padStart(7)}  ${p.note ?? ''}`.trimEnd());
}

/** 4m 05s, 1h 02m, 12s: how long a stage would take in AWS. */
export function awsDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function printResult(r: LocalBakeResult) {
  console.log('');
  if (r.status === 'succeeded' || r.status === 'unannounced') {
    const rows = Object.entries(r.images).map(([region, i]) => [region, i.imageId, i.snapshotIds.join(', ')]);
    console.log(table(['Region', 'Image', 'Snapshots'], rows));
  }
  console.log('\nEvents published:');
  for (const e of r.events) {
    const d = e.detail as { stage?: string; error?: string };
    console.log(`  ${e['detail-type']}${d.stage ? ` (stage ${d.stage}: ${d.error})` : ''}`);
  }
  console.log('');
  if (r.profile === 'realistic') {
    const total = r.stages.reduce((sum, st) => sum + st.awsSeconds, 0);
    const copies = r.stages.filter((st) => st.state === 'CopyImage' || st.state === 'WaitForCopy');
    const longestCopy = Math.max(0, ...regionsOf(copies).map((region) => sumFor(copies, region)));
    const serial = total - copies.reduce((sum, st) => sum + st.awsSeconds, 0) + longestCopy;
    console.log(
      `Rehearsal: in AWS this bake would take about ${awsDuration(serial)} (copies run in parallel; ${r.durationSeconds.toFixed(1)}s here).`,
    );
  }
  if (r.status === 'succeeded') {
    console.log(`Bake ${r.bakeId} succeeded in ${r.durationSeconds.toFixed(1)}s: ${r.imageName}`);
  } else if (r.status === 'unannounced') {
    console.log(`Bake ${r.bakeId} baked ${r.imageName}, but Bake Succeeded could not be published.`);
    console.log(`The images above exist and were kept (${r.failure?.error}: ${r.failure?.cause}).`);
  } else {
    console.log(`Bake ${r.bakeId} FAILED at ${r.failure?.stage}: ${r.failure?.error}: ${r.failure?.cause}`);
    console.log('Everything the bake created was removed (see the Bake Failed event for the list).');
  }
}

function regionsOf(stages: LocalBakeResult['stages']): string[] {
  return [...new Set(stages.map((st) => st.label.split(' ')[1] ?? ''))];
}

function sumFor(stages: LocalBakeResult['stages'], region: string): number {
  return stages.filter((st) => st.label.endsWith(` ${region}`)).reduce((sum, st) => sum + st.awsSeconds, 0);
}

// Runs when started as a program (npm run bake); `ami-bake bake --local` imports main instead.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.exitCode = unexpected(error, process.argv.includes('--json'));
    },
  );
}
