import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeStackTrace } from '../../scripts/decode-stack-trace.js';

// A function laid out as in a zip (functions/<name>/handler.mjs), its map kept apart as
// scripts/esbuild-plugins.cjs keeps it.
const dir = mkdtempSync(join(tmpdir(), 'ami-bake-trace-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lambdaTrace(): Promise<string> {
  mkdirSync(join(dir, 'lib'));
  writeFileSync(
    join(dir, 'lib', 'stage.ts'),
    [
      'export function stage(input: { id?: string }): string {',
      "  if (!input.id) throw new Error('no id');",
      '  return input.id;',
      '}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'handler.ts'),
    "import { stage } from './lib/stage';\nexport const handler = (e: object) => stage(e);\n",
  );
  const task = join(dir, 'task', 'functions', 'demo');
  await build({
    entryPoints: [join(dir, 'handler.ts')],
    bundle: true,
    minify: true,
    keepNames: true,
    format: 'esm',
    platform: 'node',
    sourcemap: 'external',
    outfile: join(task, 'handler.mjs'),
    logLevel: 'error',
  });
  mkdirSync(join(dir, 'maps', 'functions', 'demo'), { recursive: true });
  renameSync(join(task, 'handler.mjs.map'), join(dir, 'maps', 'functions', 'demo', 'handler.mjs.map'));
  // A plain `node`, as Lambda runs it (the test runner applies source maps to its own stacks).
  const script = `const { handler } = await import(${JSON.stringify(pathToFileURL(join(task, 'handler.mjs')).href)}); try { handler({}); } catch (e) { console.log(e.stack); }`;
  const { stdout } = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  // As CloudWatch shows it: the bundle runs from /var/task.
  return stdout.replaceAll(pathToFileURL(join(dir, 'task')).href, 'file:///var/task');
}

describe('decoding a Lambda stack trace with the kept source maps', () => {
  it('points each bundle frame at the source line that threw', async () => {
    const trace = await lambdaTrace();
    expect(trace).toMatch(/file:\/\/\/var\/task\/functions\/demo\/handler\.mjs:\d+:\d+/);

    const decoded = decodeStackTrace(trace, join(dir, 'maps'));

    expect(decoded).toContain('Error: no id');
    expect(decoded).toMatch(/lib\/stage\.ts:2:\d+/);
    expect(decoded).not.toContain('/var/task/');
  });

  it('leaves frames it has no map for as they are', () => {
    const frame = '    at x (file:///var/task/functions/other/handler.mjs:1:99)';

    expect(decodeStackTrace(frame, join(dir, 'maps'))).toBe(frame);
  });
});
