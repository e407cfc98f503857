import * as z from 'zod';
import { dynamo } from '../../lib/aws/dynamo.js';
import { ec2 } from '../../lib/aws/ec2.js';
import { sfn } from '../../lib/aws/sfn.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { sfnExecutions } from '../../lib/start/executions.js';
import { dynamoWaitStore } from '../../lib/waits/store.js';
import { reconcileWaits } from './core.js';

/** Scheduled: the event content is irrelevant. */
export const handler = makeHandler(z.unknown(), () => {
  const c = config();
  const store = dynamoWaitStore(dynamo(c.AWS_REGION), c.WAIT_TABLE_NAME);
  const executions = c.STATE_MACHINE_ARN ? sfnExecutions(sfn(c.AWS_REGION), c.STATE_MACHINE_ARN) : undefined;
  return reconcileWaits({
    store,
    sfn: sfn(c.AWS_REGION),
    ec2,
    now: () => new Date(),
    executionStatus: executions && (async (bakeId) => (await executions.describe(bakeId))?.status),
  });
});
