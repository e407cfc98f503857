import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Functions and front ends depend on lib/, never the reverse: a core that two callers share lives
 * in lib/, so that neither caller reaches into the other's folder. The local runner (local/) runs
 * the functions, and must not need the CLI (cli/) to do it.
 */
const FORBIDDEN: Record<string, string[]> = {
  lib: ['functions', 'cli'],
  local: ['cli'],
};

/** Every module specifier of a source: import/export … from, bare import, and import('…') of a literal. */
function specifiers(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g,
    /\bimport\s*(['"])([^'"]+)\1/g,
    /\bimport\s*\(\s*(['"`])([^'"`]+)\1\s*\)/g,
  ];
  return patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[2] ?? ''));
}

function sourcesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(?:[cm]?ts|[cm]?js)$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => join(folder, f));
}

/** The top folder of the repository a relative specifier lands in, or undefined for a package. */
function topFolder(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = relative('.', normalize(join(dirname(file), specifier)));
  return target.split(sep)[0];
}

describe('layering', () => {
  it('reads static, re-exported, bare and dynamic imports', () => {
    // Prepare
    const source = [
      "import { a } from '../functions/a.js';",
      "import type {\n  B,\n} from '../cli/b.js';",
      "export * from './c.js';",
      "import './d.js';",
      "const e = await import('../functions/e.js');",
      'const f = () => import(`../cli/f.js`);',
    ].join('\n');

    // Act
    const found = specifiers(source);

    // Assess
    expect(found.sort()).toEqual(
      ['../functions/a.js', '../cli/b.js', './c.js', './d.js', '../functions/e.js', '../cli/f.js'].sort(),
    );
  });

  for (const [layer, forbidden] of Object.entries(FORBIDDEN)) {
    it(`keeps ${layer}/ free of imports from ${forbidden.map((f) => `${f}/`).join(' and ')}`, () => {
      // Prepare
      const files = sourcesUnder(layer);

      // Act
      const wrong = files.flatMap((file) =>
        specifiers(readFileSync(file, 'utf8'))
          .filter((s) => forbidden.includes(topFolder(file, s) ?? ''))
          .map((s) => `${file} imports ${s}`),
      );

      // Assess
      expect(files.length).toBeGreaterThan(0);
      expect(wrong).toEqual([]);
    });
  }
});
