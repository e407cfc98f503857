import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The one X-Ray tracer: every function's invocation is a segment (lib/handler.ts) and every AWS
 * call a subsegment (SDK clients are captured as they are made, lib/aws/clients.ts), so with the
 * state machine's own tracing one bake is one trace. Off outside Lambda (local bakes, tests,
 * the CLI): Powertools only traces where the X-Ray daemon is.
 */
export const tracer = new Tracer({ serviceName: 'ami-bake', captureHTTPsRequests: false });
