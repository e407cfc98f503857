import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { base, perRegion } from './clients.js';

/** EventBridge (the bake events), one client per region (lib/aws/clients.ts). */
export const events = /* @__PURE__ */ perRegion((region) => new EventBridgeClient(base(region)));

export type EventsSend = Pick<EventBridgeClient, 'send'>;
