import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { wrapNewClients } from './aws/clients.js';
import { StateInputInvalidError } from './errors.js';
import { logger } from './logger.js';
import { metrics } from './metrics.js';
import { problemsOf, problemsText } from './problems.js';

/**
 * X-Ray only where it can work: in Lambda with tracing on. Elsewhere (the local runner, tests)
 * the tracer and the X-Ray SDK are not even evaluated, which keeps a local bake's start-up short.
 */
const tracing =
  process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined && process.env.POWERTOOLS_TRACE_ENABLED !== 'false'
    ? await traced()
    : undefined;

async function traced(): Promise<MiddlewareObj> {
  const [{ tracer }, { captureLambdaHandler }] = await Promise.all([
    import('./tracer.js'),
    import('@aws-lambda-powertools/tracer/middleware'),
  ]);
  // Every SDK client a function makes is an X-Ray subsegment of its invocation.
  wrapNewClients((client) => tracer.captureAWSv3Client(client));
  return captureLambdaHandler(tracer, { captureResponse: false });
}

/**
 * The one middy stack every function uses: an X-Ray segment per invocation (without the response,
 * which can hold the recipe's user data), the metrics flushed as EMF after each invocation with a
 * ColdStart count, Lambda context and bake id on every log line, input parsed by the function's
 * schema, and errors logged once with their name (the name is what the state machine's
 * Retry/Catch match).
 */
export function makeHandler<S extends z.ZodType, O>(
  schema: S,
  work: (input: z.output<S>, context: Context) => Promise<O>,
) {
  return middy<unknown, O, Error, Context>()
    .use(tracing ? [tracing] : [])
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: (request) => {
        const bakeId = bakeIdOf(request.event);
        if (bakeId) logger.appendKeys({ bakeId });
      },
      onError: (request) => {
        const error = request.error;
        if (error) logger.error(`${error.name}: ${error.message}`, { errorName: error.name });
      },
    })
    .handler(async (event, context) => {
      const parsed = schema.safeParse(event);
      if (!parsed.success) {
        throw new StateInputInvalidError(problemsText(problemsOf(parsed.error.issues)));
      }
      return work(parsed.data, context);
    });
}

function bakeIdOf(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const e = event as Record<string, unknown>;
  const nested = (e.context ?? e.bake ?? e.detail) as Record<string, unknown> | undefined;
  const id = e.bakeId ?? nested?.bakeId;
  return typeof id === 'string' ? id : undefined;
}
