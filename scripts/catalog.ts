/**
 * The recipe catalog: every `recipes/*.yml`, validated. Packaging turns its schedules and triggers
 * into CloudFormation (scripts/recipe-resources.ts), and the startBake and api functions read the
 * same files at run time, so a recipe that does not load must stop the deployment, not a bake.
 *
 *   tsx scripts/catalog.ts [dir]          one line per recipe
 *   tsx scripts/catalog.ts --json [dir]   the catalog as JSON (name, file, schedule, triggers)
 *
 * Exit code 2 and every problem of every bad recipe on stderr when one does not load.
 */
import { pathToFileURL } from 'node:url';
import { type CatalogEntry, CatalogError, loadCatalog } from '../lib/recipe/catalog.js';

// The catalog itself lives in lib/ (the startBake and api functions load it at run time); this
// file is its command line and the entry point packaging uses.
export { type CatalogEntry, CatalogError, loadCatalog };

/** What the CLI prints: enough to see what packaging will deploy, without the user data. */
export function catalogSummary(entries: readonly CatalogEntry[]) {
  return entries.map(({ file, recipe }) => ({
    name: recipe.name,
    file,
    schedule: recipe.schedule ?? null,
    triggers: recipe.triggers ?? [],
  }));
}

async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  const dir = argv.find((a) => !a.startsWith('--')) ?? 'recipes';
  let entries: CatalogEntry[];
  try {
    entries = await loadCatalog(dir);
  } catch (error) {
    console.error(error instanceof CatalogError ? error.message : String(error));
    return 2;
  }
  if (json) {
    console.log(JSON.stringify(catalogSummary(entries), null, 2));
    return 0;
  }
  for (const { name, file, schedule, triggers } of catalogSummary(entries)) {
    const when = [
      schedule ? `${schedule.expression} ${schedule.timezone}${schedule.enabled ? '' : ' (disabled)'}` : '',
      ...triggers.map((t) => `trigger ${t.name}`),
    ].filter(Boolean);
    console.log(`${name}\t${file}\t${when.join(', ') || 'on request only'}`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
