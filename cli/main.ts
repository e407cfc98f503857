import { EXIT, exitFor } from './errors.js';
import { type Io, printJson, processIo } from './io.js';

interface Command {
  help: string;
  run: (argv: string[], io: Io) => Promise<number>;
}

/**
 * Loaded on use: `bake --local` must find the process as npm run bake would (the local runner
 * sets the handlers' environment before their modules load), and other commands start faster.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  validate: {
    summary: 'check recipes offline: every problem, with its path',
    load: () => import('./commands/validate.js'),
  },
  bake: {
    summary: 'bake a recipe file locally against the AWS emulator (--local)',
    load: () => import('./commands/bake.js'),
  },
  start: {
    summary: 'start a bake of a catalog recipe on the deployed stack',
    load: () => import('./commands/start.js'),
  },
  status: {
    summary: 'show a bake: status, current stage, stage timings, images or failure',
    load: () => import('./commands/status.js'),
  },
  watch: { summary: 'follow a bake stage by stage until it ends', load: () => import('./commands/watch.js') },
  list: { summary: 'list recent bakes, newest first', load: () => import('./commands/list.js') },
  cancel: {
    summary: 'stop a running bake, clean up what it created and publish Bake Failed',
    load: () => import('./commands/cancel.js'),
  },
  retire: {
    summary: "retire a recipe's images beyond retention.keep, keeping those in use (--dry-run)",
    load: () => import('./commands/retire.js'),
  },
};

export const HELP = `ami-bake: bake Amazon Machine Images from YAML recipes, locally or on the deployed stack.

Usage:
  ami-bake <command> [arguments] [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Every command takes --json (one JSON document on stdout), --debug and --help.
Commands on the deployed stack find it from the outputs of the CloudFormation stack
ami-bake-<stage> (--stage, default dev; --stack; --region), or from --state-machine-arn or
AMI_BAKE_STATE_MACHINE_ARN. Credentials come from the usual AWS SDK chain (AWS_PROFILE, …).

Exit codes: 0 success, 1 the bake failed, 2 bad input (arguments, recipe, unknown recipe or
bake; nothing was changed), 3 AWS or configuration error (credentials, stack not found, access),
4 the bake's images were made and kept but Bake Succeeded was not published (watch, bake).

Examples:
  ami-bake validate
  ami-bake bake recipes/example.yml --local
  ami-bake start example-web --stage prod --region eu-west-1
  ami-bake watch example-web_0f3a9c1d2e4b_202611260524337a1c --stage prod --region eu-west-1
  ami-bake list --status running
  ami-bake retire example-web --dry-run

Run ami-bake <command> --help for a command's options and examples.`;

/** Runs one command; returns the exit code. Errors become one line on stderr (and JSON with --json). */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === undefined) {
      io.err(HELP);
      return EXIT.badInput;
    }
    io.out(HELP);
    return EXIT.ok;
  }
  const json = rest.includes('--json');
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    return fail(io, json, {
      code: EXIT.badInput,
      error: 'UsageError',
      message: `unknown command ${JSON.stringify(name)}; commands: ${Object.keys(COMMANDS).join(', ')}`,
    });
  }
  try {
    return await (await command.load()).run(rest, io);
  } catch (error) {
    const classified = exitFor(error);
    if (rest.includes('--debug') && error instanceof Error && error.stack) io.err(error.stack);
    const problems = (error as { problems?: unknown }).problems;
    return fail(io, json, classified, name, Array.isArray(problems) ? problems : undefined);
  }
}

function fail(
  io: Io,
  json: boolean,
  e: { code: number; error: string; message: string },
  command?: string,
  problems?: unknown[],
): number {
  const prefix = command ? `ami-bake ${command}` : 'ami-bake';
  const help = command ? `ami-bake ${command} --help` : 'ami-bake --help';
  if (problems?.length) {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    io.err([`${prefix}: ${count}:`, ...problemLines(problems), `(${help})`].join('\n'));
  } else io.err(`${prefix}: ${e.message}${e.code === EXIT.badInput ? ` (${help})` : ''}`);
  if (json)
    printJson(io, { status: 'error', exitCode: e.code, error: e.error, message: e.message, problems });
  return e.code;
}

function problemLines(problems: unknown[]): string[] {
  return problems.map((p) => {
    const { path, message } = p as { path?: string; message?: string };
    return `  ${path ?? ''}: ${message ?? ''}`;
  });
}
