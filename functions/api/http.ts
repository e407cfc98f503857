import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import type { Problem } from '../../lib/problems.js';

/** API Gateway HTTP API, payload format 2.0, IAM-authorized. */
export type ApiEvent = APIGatewayProxyEventV2WithIAMAuthorizer;

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** One problem of a request, named by where it is: `recipe`, `overrides.builder.x`, `query.limit`. */
export type { Problem } from '../../lib/problems.js';

export interface ErrorBody {
  error: string;
  message: string;
  problems?: Problem[];
  /** On a 5xx: the request id under which the function log holds the detail. */
  requestId?: string;
}

/** A response the API chose to give instead of a result: thrown, and turned into JSON once. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

export function badRequest(problems: Problem[]): HttpError {
  const message =
    problems.length === 1
      ? `${problems[0]?.path}: ${problems[0]?.message}`
      : `${problems.length} problems in the request`;
  return new HttpError(400, { error: 'BadRequest', message, problems });
}

export const notFound = (message: string) => new HttpError(404, { error: 'NotFound', message });

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** API Gateway lowercases header names in payload 2.0; be lenient with hand-built events too. */
export function header(event: ApiEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** The caller's IAM identity, for logs and the cause of a cancelled bake. */
export const callerOf = (event: ApiEvent): string | undefined =>
  event.requestContext?.authorizer?.iam?.userArn || undefined;
