import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Relative import specifiers of a TypeScript file (static and dynamic). */
function imports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)].map((m) => m[1] ?? '');
}

describe('the AWS-behaviour layer is local only', () => {
  it('no function or lib module imports anything from local/, so no Lambda bundle contains the layer', () => {
    const offenders = [...sources('functions'), ...sources('lib')].flatMap((file) =>
      imports(file)
        .filter((spec) => relative(root, join(root, file, '..', spec)).startsWith('local'))
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('nothing in serverless.yml refers to the layer or the local runner', () => {
    const template = readFileSync(join(root, 'serverless.yml'), 'utf8');
    expect(template).not.toMatch(/aws-behaviour|local\//);
  });
});
