import { ec2 } from '../../lib/aws/ec2.js';
import { events } from '../../lib/aws/eventbridge.js';
import { sfn } from '../../lib/aws/sfn.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { cleanupEnded, executionEndedSchema } from './core.js';

/** Runs on the bake state machine's own ABORTED, TIMED_OUT and FAILED status changes (serverless.yml). */
export const handler = makeHandler(executionEndedSchema, ({ detail }) => {
  const c = config();
  return cleanupEnded(detail, {
    buildRegion: c.AWS_REGION,
    cleanup: { ec2 },
    sfn: sfn(c.AWS_REGION),
    events: events(c.AWS_REGION),
    busName: c.EVENT_BUS_NAME,
    now: () => new Date(),
  });
});
