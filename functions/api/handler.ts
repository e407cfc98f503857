import { config } from '../../lib/config.js';
import { makeApiHandler } from './app.js';
import { awsApiDeps } from './deps.js';

// Once per container: config is checked and the packaged recipes are read at cold start.
const deps = awsApiDeps(config());

export const handler = makeApiHandler(() => deps);
