/**
 * Target 3: Lambda bundles as `serverless package` builds them: zip size, what is inside, which SDK
 * clients each bundle holds, and the cold import of each bundle (a fresh `node` process importing
 * it, as Lambda does) against a baseline bundle holding only the same SDK clients and commands,
 * built in the same run with the same esbuild options.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import {
  clientsAllowed,
  esbuildOptions,
  functionBundles,
  REPO_ROOT,
  sdkClients,
} from '../scripts/bundles.js';
import { kib, median, type Section } from './section.js';

const REPRODUCE = 'npm run bench -- --only bundles';
/** A bundle may take this much longer to import than the SDK clients it holds (issue 8). */
const IMPORT_RATIO_GOAL = 1.3;

interface Row {
  fn: string;
  zip: number;
  mjs: number;
  mapsInZip: string[];
  mapKept: boolean;
  clients: string[];
  allowed: string[] | undefined;
  importMs: number;
  baselineMs: number;
}

async function bundles(runs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ami-bake-bench-'));
  try {
    const t0 = performance.now();
    execFileSync('npx', ['serverless', 'package', '--stage', 'bench', '--package', dir], {
      cwd: REPO_ROOT,
      stdio: 'ignore',
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' },
    });
    const packageSeconds = (performance.now() - t0) / 1000;
    const graphs = new Map((await functionBundles()).map((b) => [b.key, b]));
    const template = readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8');
    const rows: Row[] = [];
    for (const zip of readdirSync(dir).filter((f) => f.endsWith('.zip'))) {
      const fn = zip.replace(/\.zip$/, '');
      const graph = graphs.get(fn);
      if (!graph) throw new Error(`no function ${fn} in serverless.yml`);
      const out = join(dir, fn);
      execFileSync('unzip', ['-q', '-o', join(dir, zip), '-d', out]);
      const entries = execFileSync('unzip', ['-Z1', join(dir, zip)], { encoding: 'utf8' }).split('\n');
      const mjs = join(out, graph.entry.replace(/\.ts$/, '.mjs'));
      const baseline = await buildBaseline(graph.inputs, join(dir, 'baseline', fn));
      // Interleaved, so a burst of load on the shared machine hits both sides alike.
      const imports: number[] = [];
      const baselines: number[] = [];
      for (let i = 0; i < runs; i++) {
        imports.push(coldImport(mjs, out));
        baselines.push(coldImport(baseline, out));
      }
      rows.push({
        fn,
        zip: statSync(join(dir, zip)).size,
        mjs: statSync(mjs).size,
        mapsInZip: entries.filter((e) => e.endsWith('.map')),
        mapKept: existsSync(join(dir, 'sourcemaps', graph.entry.replace(/\.ts$/, '.mjs.map'))),
        clients: sdkClients(graph.inputs),
        allowed: clientsAllowed(fn),
        importMs: median(imports),
        baselineMs: median(baselines),
      });
    }
    return { packageSeconds, sourceMapsOption: template.includes('--enable-source-maps'), rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A bundle of only the SDK clients and commands the function's bundle holds (read from its
 * esbuild metafile), built with the same options: what those clients alone cost to import.
 */
async function buildBaseline(inputs: readonly string[], outdir: string): Promise<string> {
  const byPackage = new Map<string, Set<string>>();
  for (const input of inputs) {
    const m = input.match(
      /node_modules\/(@aws-sdk\/(?:client-[^/]+|lib-dynamodb))\/dist-es\/commands\/(\w+Command)\.js$/,
    );
    if (!m?.[1] || !m[2]) continue;
    byPackage.set(m[1], (byPackage.get(m[1]) ?? new Set()).add(m[2]));
  }
  const clientClass = (pkg: string) =>
    ({
      '@aws-sdk/client-ec2': 'EC2Client',
      '@aws-sdk/client-ssm': 'SSMClient',
      '@aws-sdk/client-sfn': 'SFNClient',
      '@aws-sdk/client-kms': 'KMSClient',
      '@aws-sdk/client-eventbridge': 'EventBridgeClient',
      '@aws-sdk/client-dynamodb': 'DynamoDBClient',
      '@aws-sdk/lib-dynamodb': 'DynamoDBDocumentClient',
    })[pkg];
  const lines: string[] = [];
  const names: string[] = [];
  for (const pkg of new Set([...sdkClients(inputs), ...byPackage.keys()])) {
    const client = clientClass(pkg);
    const imported = [...(client ? [client] : []), ...(byPackage.get(pkg) ?? [])];
    const aliases = imported.map((name, i) => `${name} as s${names.length + i}`);
    names.push(...aliases.map((a) => a.split(' as ')[1] ?? ''));
    lines.push(`import { ${aliases.join(', ')} } from '${pkg}';`);
  }
  lines.push(`export const sdk = [${names.join(', ')}];`);
  mkdirSync(outdir, { recursive: true });
  await build({
    ...esbuildOptions(),
    stdin: { contents: lines.join('\n'), resolveDir: REPO_ROOT, loader: 'js' },
    outfile: join(outdir, 'baseline.mjs'),
    sourcemap: false,
    logLevel: 'error',
  });
  return join(outdir, 'baseline.mjs');
}

/** A fresh Node process importing the bundle: what a Lambda cold start pays for our code. */
export function coldImport(file: string, cwd: string): number {
  const script = `const t=performance.now();await import(${JSON.stringify(file)});console.log(performance.now()-t)`;
  // As Lambda runs it: from the unzipped package, with the environment serverless.yml sets.
  const env = {
    ...process.env,
    AWS_REGION: 'us-east-1',
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:ami-bake-bench',
  };
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env,
    cwd,
  });
  if (r.status !== 0) throw new Error(`import of ${file} failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

const short = (clients: readonly string[]) =>
  clients.map((c) => c.replace('@aws-sdk/client-', '')).join(', ');
const ratio = (r: Row) => r.importMs / r.baselineMs;
const largestBy = (rows: Row[], of: (r: Row) => number) =>
  rows.reduce((a, r) => (of(r) > of(a) ? r : a), rows[0] as Row);

export const bundlesSection: Section = {
  name: 'bundles',
  async run({ runs }) {
    const b = await bundles(runs);
    const largest = largestBy(b.rows, (r) => r.zip);
    const slowest = largestBy(b.rows, ratio);
    const withMaps = b.rows.filter((r) => r.mapsInZip.length > 0);
    const strays = b.rows.filter((r) => JSON.stringify(r.clients) !== JSON.stringify(r.allowed));
    return {
      title: 'Lambda bundles',
      targets: [
        {
          name: '3. Lambda bundles: zip size',
          goal: 'every zip ≤ 600 KiB',
          figure: `largest ${kib(largest.zip)} (${largest.fn})`,
          met: b.rows.every((r) => r.zip <= 600 * 1024),
          reproduce: REPRODUCE,
        },
        {
          name: '3. Lambda bundles: no source map in the zips',
          goal: 'no .map in any zip, maps kept as a build artifact; no --enable-source-maps',
          figure: `${withMaps.length} of ${b.rows.length} zips hold a map; ${b.rows.filter((r) => r.mapKept).length} maps kept in sourcemaps/; --enable-source-maps ${b.sourceMapsOption ? 'set' : 'not set'}`,
          met: withMaps.length === 0 && b.rows.every((r) => r.mapKept) && !b.sourceMapsOption,
          reproduce: REPRODUCE,
        },
        {
          name: '3. Lambda bundles: only the clients it calls',
          goal: 'each function bundles only the SDK clients of the calls its role allows',
          figure:
            strays.length === 0
              ? `all ${b.rows.length} functions`
              : `extra or missing in ${strays.map((r) => r.fn).join(', ')}`,
          met: strays.length === 0,
          reproduce: REPRODUCE,
        },
        {
          name: '3. Lambda bundles: cold import',
          goal: `each bundle ≤ ${IMPORT_RATIO_GOAL}× a bundle of only its SDK clients`,
          figure: `worst ${ratio(slowest).toFixed(2)}× (${slowest.fn}: ${slowest.importMs.toFixed(0)} vs ${slowest.baselineMs.toFixed(0)} ms)`,
          met: b.rows.every((r) => ratio(r) <= IMPORT_RATIO_GOAL),
          reproduce: REPRODUCE,
        },
      ],
      markdown: `\`serverless package\` (esbuild, ESM, AWS SDK bundled) took ${b.packageSeconds.toFixed(1)} s.

| Function | Zip | handler.mjs | .map in zip | SDK clients | Cold import (ms) | SDK-only baseline (ms) | Ratio |
| --- | ---: | ---: | --- | --- | ---: | ---: | ---: |
${b.rows
  .sort((x, y) => x.fn.localeCompare(y.fn))
  .map(
    (r) =>
      `| ${r.fn} | ${kib(r.zip)} | ${kib(r.mjs)} | ${r.mapsInZip.length > 0 ? 'yes' : 'no'} | ${short(r.clients)} | ${r.importMs.toFixed(0)} | ${r.baselineMs.toFixed(0)} | ${ratio(r).toFixed(2)}× |`,
  )
  .join('\n')}

How it is measured:

- **Zip** is the file \`serverless package\` writes; **.map in zip** lists its entries (\`unzip -Z1\`).
  The maps are kept beside the zips in \`sourcemaps/\` (docs/deploy.md, "Reading a stack trace").
- **SDK clients** come from esbuild's metafile of each handler built with serverless.yml's
  \`custom.esbuild\` options (scripts/bundles.ts); the goal is the services the function's role
  allows (scripts/function-roles.cjs), as test/config/bundles.test.ts asserts.
- **Cold import** is a fresh \`node\` process importing the bundle from the unzipped package: the part
  of a Lambda cold start that our code controls (the runtime's own start is not included). The
  **baseline** imports only the SDK client classes and the command classes the bundle holds, built
  in the same run with the same esbuild options; the two are measured alternately. Medians.
- Node here is ${process.version}; Lambda runs nodejs24.x, so absolute times differ there; the ratio
  is what the target compares.`,
    };
  },
};
