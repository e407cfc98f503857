import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../../lib/logger.js';
import type { ApiDeps } from './deps.js';
import type { ApiEvent, ApiResponse } from './http.js';
import { httpErrors } from './middleware.js';
import { router } from './router.js';

/** The API's middy stack around the router; `deps` is resolved per request so tests pass fakes. */
export function makeApiHandler(deps: () => Promise<ApiDeps>) {
  const route = router(deps);
  return middy<ApiEvent, ApiResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpErrors())
    .handler(route);
}
