import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { loadCatalog } from '../../lib/recipe/catalog.js';
import { awsStartDeps } from '../../lib/start/aws-deps.js';
import { startBake } from '../../lib/start/start-bake.js';
import { startBakeEventSchema, toStartRequest } from './core.js';

// Loaded once per container: the packaged recipes do not change while it lives.
const catalog = loadCatalog(config().RECIPES_DIR);
// A bad recipe fails each invocation with its message, not the process at import.
catalog.catch(() => undefined);

export const handler = makeHandler(startBakeEventSchema, async (event) =>
  startBake(toStartRequest(event), awsStartDeps(config(), await catalog)),
);
