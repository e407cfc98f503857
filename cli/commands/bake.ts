import { showHelp } from '../args.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';

export const help = `Bake a recipe locally: the real state machine and handlers against an AWS emulator (moto),
exactly what npm run bake runs. No AWS account needed; nothing leaves this machine.

Usage:
  ami-bake bake <recipe.yml> --local [options]

Options (those of npm run bake):
  --local                             required: bakes on a deployed stack use start and watch
  --json                              print one JSON result (status, bakeId, images, events) and nothing else
  --region <region>                   build region (default: $AWS_REGION, else us-east-1)
  --simulate-bootstrap-failure        the played builder reports that the recipe's script failed
  --simulate-bootstrap-hang           the played builder never reports; the bootstrap budget runs out
  --simulate-copy-failure <region>    EC2 reports the copy to <region> as failed (repeatable)
  --print-input                       print the state machine input for this recipe and exit; creates nothing
  --verbose                           also print the handlers' structured logs
  -h, --help                          show this help

Environment:
  AWS_ENDPOINT_URL   use the emulator at this URL instead of starting one

Exit codes: 0 bake succeeded, 1 bake failed (and was cleaned up), 2 bad input (nothing was created),
4 images baked and kept, but Bake Succeeded could not be published.

Examples:
  ami-bake bake recipes/example.yml --local
  ami-bake bake recipes/example.yml --local --json | jq .images
  ami-bake bake recipes/example.yml --local --simulate-copy-failure eu-west-1`;

export async function run(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) return showHelp(io, help);
  if (!argv.includes('--local'))
    throw new UsageError(
      'bake runs locally and needs --local; to bake on a deployed stack: ami-bake start <recipe>, then ami-bake watch <bakeId>',
    );
  // The local CLI is the one implementation; it prints on the process's own stdout and stderr.
  const { main: bakeLocally } = await import('../../local/cli.js');
  return bakeLocally(argv.filter((a) => a !== '--local' && a !== '--debug'));
}
