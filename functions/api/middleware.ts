import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../../lib/logger.js';
import { toHttpError } from './errors.js';
import { type ApiEvent, type ApiResponse, callerOf, json } from './http.js';

/**
 * The API's HTTP layer, shaped like a Middy middleware: request id and caller on every log line,
 * every error turned into a JSON response (never an unhandled 500 for a request's own mistake),
 * one log line per response.
 */
export function httpErrors(): middy.MiddlewareObj<ApiEvent, ApiResponse, Error, Context> {
  const line = (event: ApiEvent, status: number) => ({
    method: event.requestContext?.http?.method,
    path: event.rawPath,
    status,
  });
  return {
    before: ({ event }) => {
      logger.appendKeys({ requestId: event.requestContext?.requestId, caller: callerOf(event) });
    },
    after: ({ event, response }) => {
      if (response) logger.info('request', line(event, response.statusCode));
    },
    onError: (request) => {
      const error = toHttpError(request.error, request.event.requestContext?.requestId);
      if (error.status >= 500) {
        logger.error('request failed', { ...line(request.event, error.status), error: request.error });
      } else {
        logger.info('request refused', { ...line(request.event, error.status), reason: error.message });
      }
      request.response = json(error.status, error.body, error.headers);
    },
  };
}
