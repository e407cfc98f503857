import httpRouter from '@middy/http-router';
import type { Context } from 'aws-lambda';
import { getBake, listBakesRoute, postBake, postCancel, type RouteRequest } from './bakes.js';
import type { ApiDeps } from './deps.js';
import { type ApiEvent, type ApiResponse, HttpError, notFound } from './http.js';
import { getRecipe, listRecipes, postRetire } from './recipes.js';

export interface Route {
  method: 'GET' | 'POST';
  /** OpenAPI path template: docs/openapi.yml documents exactly these (a test checks both ways). */
  path: string;
  handle: (request: RouteRequest, deps: ApiDeps) => Promise<ApiResponse>;
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/bakes', handle: postBake },
  { method: 'GET', path: '/bakes', handle: listBakesRoute },
  { method: 'GET', path: '/bakes/{bakeId}', handle: getBake },
  { method: 'POST', path: '/bakes/{bakeId}/cancel', handle: postCancel },
  { method: 'GET', path: '/recipes', handle: listRecipes },
  { method: 'GET', path: '/recipes/{name}', handle: getRecipe },
  { method: 'POST', path: '/recipes/{name}/retire', handle: postRetire },
];

/** The methods API Gateway forwards, as @middy/http-router names them. */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const;

type RouteHandler = (event: ApiEvent, context: Context) => Promise<ApiResponse>;

/**
 * One Lambda behind the HTTP API's catch-all route, dispatched by @middy/http-router: unknown
 * paths are 404 and wrong methods 405. Middy's router answers a wrong method like an unknown path,
 * so each path's other methods are routes of their own that refuse with the served ones in `Allow`.
 */
export function router(deps: () => Promise<ApiDeps>): RouteHandler {
  const served = ROUTES.map((r) => ({
    method: r.method,
    path: r.path,
    handler: async (event: ApiEvent) =>
      r.handle({ event, params: { ...event.pathParameters } as Record<string, string> }, await deps()),
  }));
  const refused = [...new Set(ROUTES.map((r) => r.path))].flatMap((path) => {
    const allowed: string[] = ROUTES.filter((r) => r.path === path).map((r) => r.method);
    const allow = allowed.join(', ');
    return METHODS.filter((m) => !allowed.includes(m)).map((method) => ({
      method,
      path,
      handler: async (event: ApiEvent): Promise<ApiResponse> => {
        throw new HttpError(
          405,
          {
            error: 'MethodNotAllowed',
            message: `${method} is not allowed on ${event.rawPath}; use ${allow}`,
          },
          { allow },
        );
      },
    }));
  });
  const dispatch = httpRouter<ApiEvent, ApiResponse>({
    routes: [...served, ...refused],
    notFoundResponse: ({ method, path }) => {
      throw notFoundRoute(method, path);
    },
  });
  return async (event, context) => {
    // A broken environment or catalog fails every request with its error, 404s and 405s too.
    await deps();
    const path = event.rawPath;
    const method = event.requestContext.http.method.toUpperCase();
    // Middy's router also serves `/bakes/` as `/bakes`; this API has one spelling of each path.
    if (path.length > 1 && path.endsWith('/')) throw notFoundRoute(method, path);
    // Matched on the raw path and the method in upper case, as API Gateway sends them. Parameters
    // come from that path: not from API Gateway's own route, which Middy would let win.
    const http = { ...event.requestContext.http, method, path };
    return dispatch(
      { ...event, requestContext: { ...event.requestContext, http }, pathParameters: undefined },
      context,
    );
  };
}

const notFoundRoute = (method: string, path: string) => notFound(`no route ${method} ${path}`);
