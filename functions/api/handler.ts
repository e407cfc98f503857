import { config } from '../../lib/config.js';
import { makeApiHandler } from './app.js';
import { awsApiDeps } from './deps.js';

// Once per container: config is checked and the packaged recipes are read at cold start.
const deps = awsApiDeps(config());
// A bad environment or recipe fails each invocation with its message, not the process at import.
deps.catch(() => undefined);

export const handler = makeApiHandler(() => deps);
