import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CatalogError, loadCatalog } from '../../lib/recipe/catalog.js';
import { formatProblems, loadRecipeFile, type Problem } from '../../lib/recipe/load.js';
import { COMMON_HELP, COMMON_OPTIONS, parse, showHelp } from '../args.js';
import { EXIT, UsageError } from '../errors.js';
import { type Io, printJson } from '../io.js';

export const help = `Check recipes offline: YAML, the schema, the user-data file and its wrapped size, and (for
the catalog) that no two recipes share a name. Every problem is listed with its path.

Usage:
  ami-bake validate [recipe.yml…] [options]

With no files, validates the catalog: every *.yml and *.yaml in --recipes-dir.

Options:
  --recipes-dir <dir>            the catalog directory (default: recipes)
${COMMON_HELP}

Exit codes: 0 every recipe is valid, 2 at least one is not (or a file cannot be read).

Examples:
  ami-bake validate
  ami-bake validate recipes/example.yml test/fixtures/cli/bad.yml
  ami-bake validate --json | jq '.recipes[] | select(.valid | not)'`;

const OPTIONS = { ...COMMON_OPTIONS, 'recipes-dir': { type: 'string', default: 'recipes' } } as const;

interface Checked {
  file: string;
  valid: boolean;
  name?: string;
  problems: Problem[];
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return showHelp(io, help);
  const dir = values['recipes-dir'];
  const catalog = positionals.length === 0;
  const files = catalog ? await catalogFiles(dir) : positionals;
  const checked: Checked[] = [];
  for (const file of files) {
    const loaded = await loadRecipeFile(file);
    checked.push(
      loaded.ok
        ? { file, valid: true, name: loaded.recipe.name, problems: [] }
        : { file, valid: false, problems: loaded.problems },
    );
  }
  if (catalog) await addCatalogProblems(dir, checked);
  const valid = checked.every((c) => c.valid);
  if (values.json) printJson(io, { status: valid ? 'valid' : 'invalid', recipes: checked });
  else {
    for (const c of checked)
      io.out(c.valid ? `✓ ${c.file}  ${c.name}` : `✗ ${formatProblems(c.file, c.problems)}`);
    const bad = checked.filter((c) => !c.valid).length;
    io.out(
      bad === 0
        ? `\n${checked.length} recipe${checked.length === 1 ? '' : 's'} valid`
        : `\n${bad} of ${checked.length} recipe${checked.length === 1 ? '' : 's'} invalid`,
    );
  }
  return valid ? EXIT.ok : EXIT.badInput;
}

async function catalogFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    throw new UsageError(`cannot read the recipe catalog ${dir}: ${(error as NodeJS.ErrnoException).code}`);
  }
  if (names.length === 0) throw new UsageError(`no recipes (*.yml) in ${dir}`);
  return names.map((n) => join(dir, n));
}

/** What only the whole catalog can tell: two recipes with the same name. */
async function addCatalogProblems(dir: string, checked: Checked[]): Promise<void> {
  try {
    await loadCatalog(dir);
  } catch (error) {
    if (!(error instanceof CatalogError)) throw error;
    for (const c of checked) {
      const problems = error.problems.get(c.file) ?? [];
      const extra = problems.filter(
        (p) => !c.problems.some((q) => q.path === p.path && q.message === p.message),
      );
      if (extra.length > 0) {
        c.valid = false;
        c.name = undefined;
        c.problems.push(...extra);
      }
    }
  }
}
