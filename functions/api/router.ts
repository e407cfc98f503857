import { getBake, listBakesRoute, postBake, postCancel, type RouteRequest } from './bakes.js';
import type { ApiDeps } from './deps.js';
import { type ApiEvent, type ApiResponse, HttpError } from './http.js';
import { getRecipe, listRecipes } from './recipes.js';

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
];

/** The path parameters when `path` fits the template, else undefined. Parameters are one segment. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    const value = got[i] ?? '';
    const name = /^\{(\w+)\}$/.exec(segment)?.[1];
    if (name) {
      if (value === '') return undefined;
      params[name] = value;
    } else if (segment !== value) return undefined;
  }
  return params;
}

/** One Lambda behind the HTTP API's catch-all route: so unknown paths are 404 and wrong methods 405. */
export async function route(event: ApiEvent, deps: ApiDeps): Promise<ApiResponse> {
  const method = event.requestContext.http.method.toUpperCase();
  const path = event.rawPath;
  const matching = ROUTES.map((r) => ({ r, params: matchPath(r.path, path) })).filter((m) => m.params);
  const found = matching.find((m) => m.r.method === method);
  if (found?.params) return found.r.handle({ event, params: found.params }, deps);
  if (matching.length > 0) {
    const allow = matching.map((m) => m.r.method).join(', ');
    throw new HttpError(
      405,
      { error: 'MethodNotAllowed', message: `${method} is not allowed on ${path}; use ${allow}` },
      { allow },
    );
  }
  throw new HttpError(404, { error: 'NotFound', message: `no route ${method} ${path}` });
}
