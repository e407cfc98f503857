import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import { makeApiHandler } from '../../../functions/api/app.js';
import type { ApiDeps } from '../../../functions/api/deps.js';
import type { ApiEvent } from '../../../functions/api/http.js';
import type { FetchedBake } from '../../../lib/bakes/status.js';
import type { BakeFailedDetail } from '../../../lib/events.js';
import { logger } from '../../../lib/logger.js';
import type { CatalogEntry } from '../../../lib/recipe/catalog.js';
import { sfnExecutions } from '../../../lib/start/executions.js';
import type { CleanupReport } from '../../../lib/state.js';
import { STATE_MACHINE_ARN, webRecipe } from '../bakes/fixtures.js';
import { awsError, BUILD_REGION, base, NOW, recipe } from '../functions/fixtures.js';

/**
 * The logger's spy for a level, made again when another file restored every mock: the unit
 * project's files share modules (vitest.config.ts, isolate: false), so this module is evaluated once.
 */
function quiet(level: 'info' | 'error') {
  const current = logger[level];
  if (vi.isMockFunction(current)) return current;
  return vi.spyOn(logger, level).mockImplementation(() => undefined);
}
quiet('info');
quiet('error');

/** The structured logger, quiet in tests; a test can still read what was logged. */
export const logged = {
  get info() {
    return quiet('info');
  },
  get error() {
    return quiet('error');
  },
};

export const CALLER = 'arn:aws:iam::123456789012:user/alice';

export const CATALOG: CatalogEntry[] = [
  // web allows the overrides the API tests use; worker (below) allows none.
  {
    file: 'recipes/web.yml',
    recipe: { ...webRecipe, overrides: { instanceTypes: ['m7g.large', 'c7i.large'], force: true } },
  },
  {
    file: 'recipes/worker.yml',
    recipe: recipe({
      name: 'worker',
      description: 'queue worker',
      schedule: { expression: 'cron(0 3 ? * SUN *)', timezone: 'UTC', enabled: true },
    }),
  },
];

export interface RequestOptions {
  body?: string | object;
  headers?: Record<string, string>;
  query?: string;
  base64?: boolean;
}

/** An HTTP API (payload 2.0) event as API Gateway sends it after SigV4 authorization. */
export function apiEvent(method: string, path: string, options: RequestOptions = {}): ApiEvent {
  const body = typeof options.body === 'object' ? JSON.stringify(options.body) : options.body;
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers,
    queryStringParameters: options.query ? Object.fromEntries(new URLSearchParams(options.query)) : undefined,
    body: body !== undefined && options.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234567',
      domainName: 'api1234567.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'api1234567',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'vitest' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: '$default',
      time: '26/Nov/2026:05:00:00 +0000',
      timeEpoch: NOW.getTime(),
      authorizer: {
        iam: {
          accessKey: 'AKIAEXAMPLE',
          accountId: '123456789012',
          callerId: 'AIDAEXAMPLE',
          cognitoIdentity: null,
          principalOrgId: 'o-example',
          userArn: CALLER,
          userId: 'AIDAEXAMPLE',
        },
      },
    },
  };
}

const CONTEXT = {
  functionName: 'ami-bake-api',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ami-bake-api',
  memoryLimitInMB: '256',
  awsRequestId: 'lambda-req-1',
  logGroupName: '/aws/lambda/ami-bake-api',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

/** What every response body may carry; the rest is checked with toMatchObject. */
export interface ResponseBody {
  error?: string;
  message?: string;
  problems?: { path: string; message: string }[];
  [field: string]: unknown;
}

export const EMPTY_CLEANUP: CleanupReport = {
  terminatedInstances: [],
  deregisteredImages: [],
  deletedSnapshots: [],
  problems: [],
};

/**
 * The API with fakes behind it: a mocked SFN client (the start path's StartExecution goes
 * through it too, so a test can assert none was sent), and recorded cleanup and publish calls.
 */
export function api(overrides: Partial<ApiDeps> = {}) {
  const client = new SFNClient({ region: BUILD_REGION });
  const sfn = mockClient(client);
  sfn.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist'));
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  sfn.on(StartExecutionCommand).callsFake(async ({ name }) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`,
    startDate: NOW,
  }));
  sfn.on(StopExecutionCommand).resolves({ stopDate: NOW });
  const cleanup = vi.fn(async (_input: { bakeId: string; regions: readonly string[] }) => EMPTY_CLEANUP);
  const published: BakeFailedDetail[] = [];
  const skipped: unknown[] = [];
  const imagesWithContentKey = vi.fn(async () => undefined as never);
  const retired: { recipe: string; keep: number; dryRun: boolean }[] = [];
  const deps: ApiDeps = {
    catalog: CATALOG,
    buildRegion: BUILD_REGION,
    stateMachineArn: STATE_MACHINE_ARN,
    sfn: client,
    start: {
      catalog: CATALOG,
      buildRegion: BUILD_REGION,
      resolveBase: async () => base,
      imagesWithContentKey,
      executions: sfnExecutions(client, STATE_MACHINE_ARN),
      publishSkipped: async (detail) => {
        skipped.push(detail);
      },
      now: () => NOW,
    },
    cleanup,
    publishFailed: async (detail) => {
      published.push(detail);
    },
    retire: async (r, dryRun) => {
      retired.push({ recipe: r.name, keep: r.retention.keep, dryRun });
      return {
        recipe: { name: r.name },
        trigger: 'request',
        keep: r.retention.keep,
        dryRun,
        regions: { [BUILD_REGION]: { retired: [], kept: [] } },
        problems: [],
        finishedAt: NOW.toISOString(),
      };
    },
    now: () => NOW,
    ...overrides,
  };
  const handler = makeApiHandler(async () => deps);
  const call = async (event: ApiEvent) => {
    const response = await handler(event, CONTEXT);
    return { ...response, json: JSON.parse(response.body) as ResponseBody };
  };
  return { call, sfn, deps, cleanup, published, skipped, imagesWithContentKey, retired };
}

/** Serves a fetched bake (DescribeExecution + history) from the mocked SFN client. */
export function serveBake(sfn: ReturnType<typeof api>['sfn'], fetched: FetchedBake) {
  sfn
    .on(DescribeExecutionCommand, { executionArn: fetched.execution.executionArn })
    .resolves(fetched.execution);
  sfn.on(GetExecutionHistoryCommand).resolves({ events: fetched.events });
}
