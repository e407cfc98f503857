import * as z from 'zod';
import { ec2 } from '../../lib/aws/ec2.js';
import { config } from '../../lib/config.js';
import { makeHandler } from '../../lib/handler.js';
import { terminateTest } from './core.js';

const iso = z.string().datetime({ offset: true });
const input = z.object({
  imageReady: z.object({ imageId: z.string(), snapshotIds: z.array(z.string()) }),
  instance: z.object({ instanceId: z.string(), instanceType: z.string(), at: iso }),
  outcome: z.object({ exitCode: z.number().int(), logTail: z.string().optional(), at: iso }),
});

export const handler = makeHandler(input, (event) =>
  terminateTest(event, { ec2: ec2(config().AWS_REGION), now: () => new Date() }),
);
