import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LOG_TAIL_TAG_KEY, RESULT_TAG_KEY } from '../../lib/bootstrap/protocol.js';
import { lineageTags, TAG } from '../../lib/tags.js';
import { REPO_ROOT } from './asl.js';
import { packagedTemplate } from './package-template.js';

/**
 * The docs name the tags, functions and outputs a user relies on; these tests compare each list
 * with the code and the packaged template, so a new tag, function or output cannot go undocumented
 * (and a removed one cannot stay documented).
 */

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** The text under a heading, up to the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string {
  const level = /^#+/.exec(heading)?.[0].length ?? 0;
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`no heading ${JSON.stringify(heading)}`);
  const end = lines.findIndex(
    (l, i) => i > start && /^#+ /.test(l) && (/^#+/.exec(l)?.[0].length ?? 0) <= level,
  );
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** The table rows of a section (not the header or the separator), as lists of cells. */
function rows(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .slice(2)
    .map((l) =>
      l
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
}

/** Every `code` span of a piece of Markdown. */
const codeSpans = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** The tags a bake puts on everything it creates. */
const lineageKeys = sorted(
  lineageTags(
    { bakeId: 'b', recipeName: 'r', recipeHash: 'h', contentKey: 'k', base: { imageId: 'ami-0' } },
    {},
    'ami-bake-ci',
  ).map((t) => t.Key ?? ''),
);

describe('docs/recipes.md and the README name every tag the pipeline writes', () => {
  const lineageTable = rows(section(read('docs/recipes.md'), '### Lineage tags'));

  it('the lineage tags table lists exactly the tag keys of lib/tags.ts and the bootstrap wrapper', () => {
    const documented = lineageTable
      .flatMap(([tag]) => codeSpans(tag ?? ''))
      .filter((k) => k.startsWith('ami-bake:'));

    expect(sorted(documented)).toEqual(sorted([...Object.values(TAG), RESULT_TAG_KEY, LOG_TAIL_TAG_KEY]));
  });

  it('the tags documented as on everything are the ones every resource gets', () => {
    const everywhere = lineageTable
      .filter(([, on]) => on === 'everything')
      .flatMap(([tag]) => codeSpans(tag ?? ''));

    expect(sorted(everywhere.filter((k) => k.startsWith('ami-bake:')))).toEqual(lineageKeys);
  });

  it("the README's list of the tags on every resource is complete", () => {
    const readme = read('README.md').replaceAll('\n', ' ');
    const sentence =
      /Every resource a bake creates carries the tags (.*?), so lineage/.exec(readme)?.[1] ?? '';

    expect(sorted(codeSpans(sentence))).toEqual(lineageKeys);
  });
});

describe('docs/deploy.md describes the stack that is deployed', () => {
  const deploy = read('docs/deploy.md');
  let outputs: string[];

  beforeAll(() => {
    outputs = Object.keys(packagedTemplate<{ Outputs: Record<string, unknown> }>().template.Outputs);
  });

  const functionKeys = Object.keys(
    (parse(read('serverless.yml')) as { functions: Record<string, unknown> }).functions,
  );

  it('the functions table lists exactly the functions of serverless.yml', () => {
    const documented = rows(section(deploy, '## Functions')).flatMap(([name]) => codeSpans(name ?? ''));

    expect(sorted(documented)).toEqual(sorted(functionKeys));
  });

  it("the outputs table lists exactly the packaged template's outputs", () => {
    // osls adds one `<Function>LambdaFunctionQualifiedArn` per function: documented as one row.
    const logicalName = (key: string) => `${key.charAt(0).toUpperCase()}${key.slice(1)}`;
    const documented = rows(section(deploy, '## Outputs'))
      .flatMap(([name]) => codeSpans(name ?? ''))
      .flatMap((name) =>
        name.startsWith('<Function>')
          ? functionKeys.map((k) => name.replace('<Function>', logicalName(k)))
          : [name],
      );

    expect(sorted(documented)).toEqual(sorted(outputs));
  });

  it('every output named elsewhere in the page exists', () => {
    const named = [...deploy.matchAll(/outputs? ((?:`\w+`(?:, | and )?)+)/g)].flatMap((m) =>
      codeSpans(m[1] ?? ''),
    );

    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((n) => !outputs.includes(n))).toEqual([]);
  });
});
