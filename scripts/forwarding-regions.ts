/**
 * The regions whose EC2 image events the stack forwards to its home region: every region a recipe
 * of the catalog copies to, or a request may add (lib/forwarding/forwarding.ts, catalogRegions).
 * Printed as a JSON array for scripts/forwarding-regions.cjs, at package time.
 *
 *   tsx scripts/forwarding-regions.ts [dir]
 */
import { catalogRegions } from '../lib/forwarding/forwarding.js';
import { CatalogError, loadCatalog } from '../lib/recipe/catalog.js';

try {
  console.log(JSON.stringify(catalogRegions(await loadCatalog(process.argv[2] ?? 'recipes'))));
} catch (error) {
  console.error(error instanceof CatalogError ? error.message : String(error));
  process.exitCode = 2;
}
