/** The layer's public types and the three named timing profiles (docs/aws-behaviour.md). */
export type ProfileName = 'instant' | 'realistic' | 'faults';

/** Token bucket, in AWS seconds. */
export interface Bucket {
  capacity: number;
  refillPerSecond: number;
}

export interface Profile {
  name: string;
  /** AWS seconds per local second (60 = one AWS minute is one local second). instant: 1. */
  clock: number;
  /** Durations in AWS seconds (divided by clock to get local time). 0 = instant. */
  durations: {
    instanceLaunch: number;
    instanceStop: number;
    instanceTerminate: number;
    image: number;
    copy: number;
  };
  /** AWS seconds after a create call during which the new id is not yet visible (eventual consistency). */
  consistencyWindow: number;
  /**
   * Token buckets per EC2 action (undefined: no throttling). A byAction key ending in `*` is a
   * prefix (`Describe*`); an exact name wins over a prefix.
   */
  throttle?: { default: Bucket; byAction?: Record<string, Bucket> };
  /**
   * EC2 state-change events: delay in AWS seconds [min, max], the chance of a duplicate delivery,
   * and an optional long tail: that share of events arrives within `tail.delay` instead.
   */
  events: {
    delay: [number, number];
    duplicateProbability: number;
    tail?: { probability: number; delay: [number, number] };
  };
}

export interface FaultRule {
  id?: string;
  service?: string;
  action: string;
  region?: string;
  /**
   * Only calls whose query parameters have these values (EC2's form parameters): e.g.
   * `{ InstanceType: 'm7i.large' }` for no capacity of one type, or
   * `{ 'InstanceMarketOptions.MarketType': 'spot' }` for Spot only.
   */
  params?: Record<string, string>;
  /** Which matching calls are hit (1-based counters of matching calls). Default: every matching call. */
  calls?: number[];
  from?: number;
  times?: number;
  probability?: number;
  effect: 'error-before' | 'error-after' | 'drop-before' | 'drop-after' | 'delay' | 'failed-entry';
  /** For error-* (and failed-entry): the AWS error to answer. Default { code: 'InternalError', status: 500 }. */
  error?: { code: string; status: number; message?: string };
  /** For delay: local milliseconds. */
  delayMs?: number;
}

export interface CallRecord {
  service: string;
  action: string;
  region: string;
  /** HTTP status answered; 0 when the connection was dropped. */
  status: number;
  fault?: string;
  at: number;
}

export interface Ec2Event {
  region: string;
  'detail-type': 'EC2 Instance State-change Notification' | 'EC2 AMI State Change';
  source: 'aws.ec2';
  detail: Record<string, unknown>;
  time: string;
}

// EC2's throttling shape (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html):
// Describe* as documented (100, +20/s); mutating and resource-intensive actions smaller than
// documented, so that a local burst of creates meets RequestLimitExceeded as a busy account would.
const ec2Buckets: NonNullable<Profile['throttle']> = {
  default: { capacity: 20, refillPerSecond: 5 },
  byAction: {
    RunInstances: { capacity: 5, refillPerSecond: 2 },
    CreateImage: { capacity: 5, refillPerSecond: 2 },
    CopyImage: { capacity: 5, refillPerSecond: 2 },
    'Describe*': { capacity: 100, refillPerSecond: 20 },
    GetConsoleOutput: { capacity: 100, refillPerSecond: 20 },
  },
};

export const PROFILES: Record<ProfileName, Profile> = {
  instant: {
    name: 'instant',
    clock: 1,
    durations: { instanceLaunch: 0, instanceStop: 0, instanceTerminate: 0, image: 0, copy: 0 },
    consistencyWindow: 0,
    events: { delay: [0, 0], duplicateProbability: 0 },
  },
  realistic: {
    name: 'realistic',
    clock: 60,
    durations: { instanceLaunch: 30, instanceStop: 60, instanceTerminate: 30, image: 240, copy: 900 },
    consistencyWindow: 5,
    throttle: ec2Buckets,
    // AWS documents EventBridge delivery as "near-real-time" and EC2's events as best effort, with
    // no figure (docs/aws-behaviour.md, "Event timing"): mostly within 2 s, 1 in 20 up to 30 s late.
    events: { delay: [0.5, 2], duplicateProbability: 0.1, tail: { probability: 0.05, delay: [2, 30] } },
  },
  faults: {
    name: 'faults',
    clock: 20,
    durations: { instanceLaunch: 0, instanceStop: 5, instanceTerminate: 0, image: 0, copy: 0 },
    consistencyWindow: 3,
    events: { delay: [0, 2], duplicateProbability: 0.2 },
  },
};

export function resolveProfile(p: ProfileName | Profile): Profile {
  if (typeof p !== 'string') return p;
  const found = PROFILES[p];
  if (!found) throw new Error(`unknown behaviour profile "${p}" (instant, realistic, faults)`);
  return found;
}

/** Local milliseconds for a span of AWS seconds under a profile. */
export function localMs(profile: Profile, awsSeconds: number): number {
  return (awsSeconds / profile.clock) * 1000;
}
