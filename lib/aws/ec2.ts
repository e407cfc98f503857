import { EC2Client } from '@aws-sdk/client-ec2';
import { base, perRegion } from './clients.js';

/** EC2, one client per region (lib/aws/clients.ts). */
export const ec2 = /* @__PURE__ */ perRegion((region) => new EC2Client(base(region)));

export type Ec2Send = Pick<EC2Client, 'send'>;
