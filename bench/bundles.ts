/**
 * Target 3: Lambda bundles as `serverless package` builds them: zip size, what is inside, and the
 * cold import of each bundle (a fresh `node` process importing it, as Lambda does).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kib, median, type Section } from './section.js';

function bundles(runs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ami-bake-bench-'));
  const t0 = performance.now();
  execFileSync('npx', ['serverless', 'package', '--stage', 'bench', '--package', dir], {
    stdio: 'ignore',
    env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' },
  });
  const packageSeconds = (performance.now() - t0) / 1000;
  const rows = [];
  for (const zip of readdirSync(dir).filter((f) => f.endsWith('.zip'))) {
    const out = join(dir, zip.replace(/\.zip$/, ''));
    execFileSync('unzip', ['-q', '-o', join(dir, zip), '-d', out]);
    const mjs = findMjs(out);
    const imports = Array.from({ length: runs }, () => coldImport(mjs, out));
    rows.push({
      fn: zip.replace(/\.zip$/, ''),
      zip: statSync(join(dir, zip)).size,
      mjs: statSync(mjs).size,
      importMs: median(imports),
    });
  }
  rmSync(dir, { recursive: true, force: true });
  return { packageSeconds, rows: rows.sort((a, b) => a.fn.localeCompare(b.fn)) };
}

function findMjs(dir: string): string {
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    if (entry.endsWith('handler.mjs')) return join(dir, entry);
  }
  throw new Error(`no handler.mjs in ${dir}`);
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

export const bundlesSection: Section = {
  name: 'bundles',
  async run({ runs }) {
    const b = bundles(runs);
    const largest = b.rows.reduce((a, r) => (r.zip > a.zip ? r : a), b.rows[0] ?? { fn: '-', zip: 0 });
    return {
      title: 'Lambda bundles',
      targets: [
        {
          name: '3. Lambda bundles: zip size',
          goal: 'every zip ≤ 600 KiB',
          figure: `largest ${kib(largest.zip)} (${largest.fn})`,
          met: b.rows.every((r) => r.zip <= 600 * 1024),
          reproduce: 'npm run bench -- --only bundles',
        },
      ],
      markdown: `\`serverless package\` (esbuild, ESM, AWS SDK bundled) took ${b.packageSeconds.toFixed(1)} s.

| Function | Zip | handler.mjs | Cold import (ms) |
| --- | ---: | ---: | ---: |
${b.rows.map((r) => `| ${r.fn} | ${kib(r.zip)} | ${kib(r.mjs)} | ${r.importMs.toFixed(0)} |`).join('\n')}

Cold import is a fresh \`node\` process importing the bundle: the part of a Lambda cold start
that our code controls (the runtime's own start is not included).`,
    };
  },
};
