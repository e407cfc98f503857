import { SFNClient } from '@aws-sdk/client-sfn';
import { base, perRegion } from './clients.js';

/** Step Functions, one client per region (lib/aws/clients.ts). */
export const sfn = /* @__PURE__ */ perRegion((region) => new SFNClient(base(region)));

export type SfnSend = Pick<SFNClient, 'send'>;
