import { cancelBake } from '../../lib/bakes/cancel.js';
import { listBakes } from '../../lib/bakes/list.js';
import { fetchBake, summarizeBake } from '../../lib/bakes/status.js';
import { countStart } from '../../lib/metrics.js';
import { startBake } from '../../lib/start/start-bake.js';
import { readJsonBody } from './body.js';
import type { ApiDeps } from './deps.js';
import {
  type ApiEvent,
  type ApiResponse,
  badRequest,
  callerOf,
  header,
  json,
  notFound,
  type Problem,
} from './http.js';
import { check } from './problems.js';
import {
  bakeIdSchema,
  cancelBodySchema,
  DEFAULT_LIMIT,
  idempotencyKeySchema,
  listQuerySchema,
  startBodySchema,
} from './schemas.js';

export interface RouteRequest {
  event: ApiEvent;
  params: Record<string, string>;
}

const links = (bakeId: string) => ({ self: `/bakes/${bakeId}`, cancel: `/bakes/${bakeId}/cancel` });

/** POST /bakes: every problem of the body and the header at once, then the one start path. */
export async function postBake({ event }: RouteRequest, deps: ApiDeps): Promise<ApiResponse> {
  const body = check(startBodySchema, readJsonBody(event, { required: true }));
  const rawKey = header(event, 'idempotency-key');
  const key = rawKey === undefined ? undefined : check(idempotencyKeySchema, rawKey);
  const problems: Problem[] = [
    ...(body.ok ? [] : body.problems),
    ...(key && !key.ok ? key.problems.map((p) => ({ ...p, path: 'header.Idempotency-Key' })) : []),
  ];
  if (!body.ok || (key && !key.ok)) throw badRequest(problems);

  const caller = callerOf(event);
  const result = await startBake(
    {
      ...body.value,
      reason: body.value.reason ?? (caller ? `API request by ${caller}`.slice(0, 256) : undefined),
      idempotencyKey: key?.value,
      source: 'api',
    },
    deps.start,
  );
  countStart(result);
  if (result.status === 'skipped') {
    const { status, recipe, contentKey, images } = result;
    return json(200, { status, recipe, contentKey, images });
  }
  const { bakeId, executionArn, status, recipe } = result;
  return json(
    202,
    { bakeId, executionArn, status, recipe, links: links(bakeId) },
    { location: `/bakes/${bakeId}` },
  );
}

/** GET /bakes: recent bakes, newest first. */
export async function listBakesRoute({ event }: RouteRequest, deps: ApiDeps): Promise<ApiResponse> {
  const params = new URLSearchParams(event.rawQueryString ?? '');
  const repeated = [...new Set([...params.keys()].filter((k) => params.getAll(k).length > 1))];
  const query = check(listQuerySchema, Object.fromEntries(params), 'query');
  const problems = [
    ...repeated.map((k) => ({ path: `query.${k}`, message: 'given more than once' })),
    ...(query.ok ? [] : query.problems),
  ];
  if (!query.ok || problems.length > 0) throw badRequest(problems);
  const bakes = await listBakes(deps.sfn, deps.stateMachineArn, {
    ...query.value,
    limit: query.value.limit ?? DEFAULT_LIMIT,
  });
  return json(200, { bakes: bakes.map((b) => ({ ...b, links: links(b.bakeId) })) });
}

/** GET /bakes/{bakeId}: status, stage, timings, images so far, error and cause. */
export async function getBake({ params }: RouteRequest, deps: ApiDeps): Promise<ApiResponse> {
  const bakeId = bakeIdOf(params);
  const fetched = await fetchBake(deps.sfn, deps.stateMachineArn, bakeId);
  if (!fetched) throw notFound(`no bake ${bakeId}`);
  return json(200, { ...summarizeBake(fetched), links: links(bakeId) });
}

/** POST /bakes/{bakeId}/cancel: stop, clean up, tell subscribers. */
export async function postCancel({ event, params }: RouteRequest, deps: ApiDeps): Promise<ApiResponse> {
  const bakeId = check(bakeIdSchema, params.bakeId);
  const body = check(cancelBodySchema, readJsonBody(event, { required: false }) ?? {});
  if (!bakeId.ok || !body.ok) {
    throw badRequest([
      ...(bakeId.ok ? [] : bakeId.problems.map((p) => ({ ...p, path: 'path.bakeId' }))),
      ...(body.ok ? [] : body.problems),
    ]);
  }
  const result = await cancelBake(
    { bakeId: bakeId.value, reason: body.value.reason, by: callerOf(event) },
    deps,
  );
  return json(202, { ...result, links: links(bakeId.value) });
}

function bakeIdOf(params: Record<string, string>): string {
  const bakeId = check(bakeIdSchema, params.bakeId);
  if (!bakeId.ok) throw badRequest(bakeId.problems.map((p) => ({ ...p, path: 'path.bakeId' })));
  return bakeId.value;
}
