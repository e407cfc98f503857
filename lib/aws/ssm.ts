import { SSMClient } from '@aws-sdk/client-ssm';
import { base, perRegion } from './clients.js';

/** SSM Parameter Store (base images by parameter), one client per region (lib/aws/clients.ts). */
export const ssm = /* @__PURE__ */ perRegion((region) => new SSMClient(base(region)));

export type SsmSend = Pick<SSMClient, 'send'>;
