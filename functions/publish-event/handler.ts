import { events } from '../../lib/aws/eventbridge.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { bakeEventMetrics, emit } from '../../lib/metrics.js';
import { publishEvent, publishInputSchema } from './core.js';

export const handler = makeHandler(publishInputSchema, (input) => {
  const c = config();
  return publishEvent(input, {
    events: events(c.AWS_REGION),
    busName: c.EVENT_BUS_NAME,
    now: () => new Date(),
    measured: bakeEventMetrics,
    notPublished: (detailType) => emit('EventsNotPublished', 1, { detailType }),
  });
});
