import { events } from '../../lib/aws/eventbridge.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { type CustomResourceResponse, customResourceRequestSchema, forwardEvents } from './core.js';

/** The response goes to a presigned S3 URL: a plain PUT whose body must have no content type. */
async function respond(url: string, body: CustomResourceResponse): Promise<void> {
  const text = JSON.stringify(body);
  const reply = await fetch(url, { method: 'PUT', body: text, headers: { 'content-type': '' } });
  if (!reply.ok) throw new Error(`CloudFormation response: HTTP ${reply.status}`);
}

export const handler = makeHandler(customResourceRequestSchema, (request) =>
  forwardEvents(request, { events, homeRegion: config().AWS_REGION, respond }),
);
