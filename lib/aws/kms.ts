import { KMSClient } from '@aws-sdk/client-kms';
import { base, perRegion } from './clients.js';

/** KMS (checking a recipe's keys), one client per region (lib/aws/clients.ts). */
export const kms = /* @__PURE__ */ perRegion((region) => new KMSClient(base(region)));

export type KmsSend = Pick<KMSClient, 'send'>;
