/**
 * The Lambda bundles as serverless.yml builds them, without packaging: the same esbuild options
 * (`custom.esbuild`) and plugins, one entry per function, with esbuild's metafile saying what each
 * bundle holds. test/config/bundles.test.ts checks which SDK clients each function bundles;
 * bench/bundles.ts builds each function's SDK-only baseline with the same options.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';
import { parse } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

const require = createRequire(import.meta.url);

interface ServerlessYml {
  custom: { esbuild: Record<string, unknown> & { outputFileExtension?: string } };
  functions: Record<string, { handler: string }>;
}

function serverlessYml(): ServerlessYml {
  return parse(readFileSync(join(REPO_ROOT, 'serverless.yml'), 'utf8'), { merge: true }) as ServerlessYml;
}

/**
 * `custom.esbuild` as esbuild options: serverless-esbuild's own keys removed, its file extension
 * as `outExtension`, its plugins file loaded as serverless-esbuild loads it. The source-map mover
 * is left out: these builds are not packaged.
 */
export function esbuildOptions(): BuildOptions {
  const { exclude, packager, outputFileExtension, plugins, ...options } = serverlessYml().custom.esbuild;
  const loaded =
    typeof plugins === 'string'
      ? (require(join(REPO_ROOT, plugins)) as (serverless: object) => Plugin[])({ serviceDir: REPO_ROOT })
      : [];
  return {
    ...(options as BuildOptions),
    outExtension: { '.js': outputFileExtension ?? '.js' },
    plugins: loaded.filter((p) => p.name !== 'source-maps-outside-zips'),
    absWorkingDir: REPO_ROOT,
  };
}

/** Function key → its handler's source file, relative to the repository: `functions/x/handler.ts`. */
export function functionEntries(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(serverlessYml().functions).map(([key, fn]) => [
      key,
      `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`,
    ]),
  );
}

export interface FunctionBundle {
  key: string;
  entry: string;
  /** Bytes of the minified bundle. */
  bytes: number;
  /** The files in the bundle, as esbuild names them (`node_modules/...`, `lib/...`). */
  inputs: string[];
}

/** Every function's bundle graph, in one esbuild run, nothing written. */
export async function functionBundles(): Promise<FunctionBundle[]> {
  const entries = functionEntries();
  const result = await build({
    ...esbuildOptions(),
    entryPoints: entries,
    outdir: join(REPO_ROOT, '.esbuild', 'graph'),
    sourcemap: false,
    metafile: true,
    write: false,
    logLevel: 'error',
  });
  return Object.entries(entries).map(([key, entry]) => {
    const output = outputOf(result.metafile, entry);
    return { key, entry, bytes: output.bytes, inputs: Object.keys(output.inputs) };
  });
}

function outputOf(metafile: Metafile, entry: string): Metafile['outputs'][string] {
  const found = Object.values(metafile.outputs).find((o) => o.entryPoint === entry);
  if (!found) throw new Error(`esbuild wrote no bundle for ${entry}`);
  return found;
}

/** The AWS SDK client packages in a bundle: `@aws-sdk/client-ec2`, ... */
export function sdkClients(inputs: readonly string[]): string[] {
  const clients = new Set<string>();
  for (const input of inputs) {
    const m = input.match(/node_modules\/(@aws-sdk\/client-[^/]+)\//);
    if (m?.[1]) clients.add(m[1]);
  }
  return [...clients].sort();
}

interface Statement {
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const { statementsFor } = require('./function-roles.cjs') as {
  statementsFor: (names: Record<string, unknown>) => Record<string, Statement[] | undefined>;
};

/** IAM service prefix → the SDK client that calls it. */
const CLIENT_OF_SERVICE: Record<string, string> = {
  ec2: '@aws-sdk/client-ec2',
  ssm: '@aws-sdk/client-ssm',
  states: '@aws-sdk/client-sfn',
  kms: '@aws-sdk/client-kms',
  events: '@aws-sdk/client-eventbridge',
  dynamodb: '@aws-sdk/client-dynamodb',
  autoscaling: '@aws-sdk/client-auto-scaling',
};

/**
 * The SDK clients a function calls: the services its role allows (scripts/function-roles.cjs grants
 * exactly the calls its code makes), less what another service does on its behalf (KMS through
 * EC2: `kms:ViaService`) and what is not a call (`iam:PassRole`). Undefined: no role for `key`.
 */
export function clientsAllowed(key: string): string[] | undefined {
  const statements = statementsFor({
    stack: 'ami-bake-graph',
    stateMachineArn: '',
    executionsArn: '',
    busArn: '',
  })[key];
  if (!statements) return undefined;
  const clients = statements
    .filter((s) => !JSON.stringify(s.Condition ?? {}).includes('kms:ViaService'))
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
    .map((action) => CLIENT_OF_SERVICE[action.split(':')[0] ?? ''])
    .filter((client): client is string => client !== undefined);
  return [...new Set(clients)].sort();
}
