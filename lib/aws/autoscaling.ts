import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { base, perRegion } from './clients.js';

/** Auto Scaling (what retention must not break: groups and launch configurations), one client per region. */
export const autoScaling = /* @__PURE__ */ perRegion((region) => new AutoScalingClient(base(region)));

export type AutoScalingSend = Pick<AutoScalingClient, 'send'>;
