import { type ParseArgsConfig, parseArgs } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

import { UsageError } from './errors.js';

/** Options every command takes. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean', default: false },
  debug: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const COMMON_HELP = `Output:
  --json                         print one JSON document on stdout and nothing else there
  --debug                        print stack traces of errors
  -h, --help                     show this help`;

/** node:util parseArgs, strict; its errors are usage errors (exit 2). */
export function parse<O extends OptionsConfig>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function onePositional(positionals: string[], what: string): string {
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? `give ${what}` : `give exactly one ${what}, not ${positionals.join(' ')}`,
    );
  return positionals[0] ?? '';
}

export function showHelp(io: { out: (text: string) => void }, help: string): 0 {
  io.out(help);
  return 0;
}
