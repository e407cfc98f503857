import {
  BakeNotFoundError,
  BakeNotRunningError,
  BaseImageNotFoundError,
  EventNotPublishedError,
  IdempotencyConflictError,
  RecipeInvalidError,
  RecipeNotFoundError,
  TooManyBakesError,
} from '../../lib/errors.js';
import { type ApiResponse, badRequest, HttpError, json } from './http.js';

/** AWS said "slow down" or "not now": the caller may retry the same request. */
const RETRYABLE_AWS = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalServerError',
]);

/**
 * Every error as a JSON response. Bad input is 4xx; 502/503 only when AWS failed us; 500 only
 * for a bug (with no detail: the log has it).
 */
export function toResponse(error: unknown): ApiResponse {
  const e = error instanceof HttpError ? error : toHttpError(error);
  return json(e.status, e.body, e.headers);
}

/**
 * A 502 says which kind of AWS error it was, never AWS's message: that names role ARNs, account
 * ids and resources. The middleware logs the full error under the same request id.
 */
export function toHttpError(error: unknown, requestId?: string): HttpError {
  if (error instanceof HttpError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RecipeInvalidError) {
    return badRequest(error.problems.length > 0 ? [...error.problems] : [{ path: '(body)', message }]);
  }
  if (error instanceof RecipeNotFoundError || error instanceof BakeNotFoundError) {
    return new HttpError(404, { error: 'NotFound', message });
  }
  if (error instanceof IdempotencyConflictError || error instanceof BakeNotRunningError) {
    return new HttpError(409, { error: 'Conflict', message });
  }
  // The per-recipe or per-stack limit of running bakes: fine to retry once a bake has ended.
  if (error instanceof TooManyBakesError) {
    return new HttpError(429, { error: 'TooManyBakes', message }, { 'retry-after': '300' });
  }
  // The request is fine and so is the recipe's syntax, but its base selector finds no image.
  if (error instanceof BaseImageNotFoundError) {
    return new HttpError(422, { error: 'BaseImageNotFound', message });
  }
  if (error instanceof EventNotPublishedError) {
    return badGateway('an event could not be published', requestId);
  }
  if (isAwsError(error)) {
    const name = (error as Error).name;
    const server = (error as { $fault?: string }).$fault === 'server';
    return RETRYABLE_AWS.has(name) || server
      ? new HttpError(
          503,
          { error: 'ServiceUnavailable', message: `AWS is busy (${name}); retry shortly` },
          { 'retry-after': '2' },
        )
      : badGateway(`AWS refused a call (${name})`, requestId);
  }
  return new HttpError(500, { error: 'InternalError', message: 'unexpected error; see the function log' });
}

function badGateway(what: string, requestId: string | undefined): HttpError {
  const where = requestId ? `request id ${requestId}` : 'this request';
  return new HttpError(502, {
    error: 'BadGateway',
    message: `${what}; the function log has the detail under ${where}`,
    ...(requestId ? { requestId } : {}),
  });
}

/** The SDK's service errors carry `$metadata`; a timeout or a reset connection is AWS failing too. */
function isAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return '$metadata' in error || ['TimeoutError', 'NetworkingError'].includes(error.name);
}
