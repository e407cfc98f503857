import { dynamo } from '../../lib/aws/dynamo.js';
import { ec2 } from '../../lib/aws/ec2.js';
import { sfn } from '../../lib/aws/sfn.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { dynamoWaitStore } from '../../lib/waits/store.js';
import { ec2EventSchema, resumeWait } from './core.js';

export const handler = makeHandler(ec2EventSchema, (event) => {
  const c = config();
  const store = dynamoWaitStore(dynamo(c.AWS_REGION), c.WAIT_TABLE_NAME);
  return resumeWait(event, { store, sfn: sfn(c.AWS_REGION), ec2, now: () => new Date() });
});
