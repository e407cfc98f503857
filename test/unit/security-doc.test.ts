import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DOC = 'docs/security.md';

/** `test/….test.ts` › “name”: every citation of a test file, with the test's name when given. */
function citations(doc: string): { file: string; name?: string }[] {
  const found = doc.matchAll(/`(test\/[\w./-]+\.test\.ts)`(?:\s*›\s*“([^”]+)”)?/g);
  return [...found].map((m) => ({ file: m[1] ?? '', name: m[2] }));
}

describe('docs/security.md', () => {
  const doc = readFileSync(DOC, 'utf8');

  it('cites only test files and test names that exist', () => {
    // Prepare
    const cited = citations(doc);

    // Act
    const missing = cited.filter(({ file, name }) => {
      if (!existsSync(file)) return true;
      const source = readFileSync(file, 'utf8');
      // The name as the file writes it, in any quote: a test's title is a string literal.
      return name !== undefined && !["'", '"', '`'].some((q) => source.includes(`${q}${name}${q}`));
    });

    // Assess
    expect(cited.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('holds every property of its property tables with a cited test', () => {
    // Prepare: the rows of every table whose header has a "Held by" column
    const rows: string[] = [];
    let inPropertyTable = false;
    for (const line of doc.split('\n')) {
      if (!line.startsWith('|')) inPropertyTable = false;
      else if (/\|\s*Held by\s*\|/.test(line)) inPropertyTable = true;
      else if (inPropertyTable && !/^\|\s*-/.test(line)) rows.push(line);
    }

    // Assess
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row, row).toMatch(/`test\/[\w./-]+\.test\.ts`/);
  });

  it('has a section for every area of the threat model', () => {
    for (const section of ['Threat model', 'Hostile input'])
      expect(doc).toMatch(new RegExp(`^## ${section}$`, 'm'));
  });
});
