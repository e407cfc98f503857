/**
 * The AWS-behaviour layer: an HTTP proxy between the AWS SDK and moto that adds what moto lacks
 * (EC2 timing and events, eventual consistency, idempotency, throttling, faults, account rules).
 * Local only: nothing in a Lambda bundle or serverless.yml refers to it. See docs/aws-behaviour.md.
 */
import { Accounts } from './account.js';
import { type CreatedRecord, newEc2State } from './ec2.js';
import { Ec2Model } from './model.js';
import { handle } from './pipeline.js';
import {
  type CallRecord,
  type Ec2Event,
  type FaultRule,
  type Profile,
  type ProfileName,
  resolveProfile,
} from './profiles.js';
import { FaultRules, seededRandom, Throttle } from './rules.js';
import { serve, Upstream } from './server.js';

export type { CreatedRecord } from './ec2.js';
export type { Bucket, CallRecord, Ec2Event, FaultRule, Profile, ProfileName } from './profiles.js';
export { PROFILES } from './profiles.js';

export interface BehaviourLayer {
  endpoint: string;
  readonly profile: Profile;
  setProfile(p: ProfileName | Profile): void;
  addFault(rule: FaultRule): string;
  clearFaults(): void;
  calls(): CallRecord[];
  resetCalls(): void;
  /** Instances and images created upstream since the last resetCalls() (to assert nothing was created twice). */
  created(): CreatedRecord[];
  /** EC2 state-change events, each only in its region, after the profile's delay, sometimes twice. */
  onEc2Event(listener: (e: Ec2Event) => void): () => void;
  /**
   * The same events at the moment of the change, with the delays (AWS seconds) their deliveries
   * were given: the detection bench measures lag from here (bench/detection.ts).
   */
  onEc2Change(listener: (e: Ec2Event, delaysAwsSeconds: number[]) => void): () => void;
  /** The played builder's serial console: GetConsoleOutput answers it instead of moto's canned text. */
  writeConsole(region: string, instanceId: string, text: string): void;
  /**
   * Accepts an AWS Marketplace product's terms, as a user does on its page: until then launching
   * its images answers OptInRequired (local/aws-behaviour/marketplace.ts).
   */
  subscribeMarketplace(productCode: string): void;
  /** Back to a fresh account's: no Marketplace subscriptions. */
  unsubscribeMarketplace(): void;
  stop(): Promise<void>;
}

export async function startBehaviourLayer(options: {
  upstream: string;
  profile?: ProfileName | Profile;
  seed?: number;
}): Promise<BehaviourLayer> {
  let profile = resolveProfile(options.profile ?? 'instant');
  const random = seededRandom(options.seed ?? 1);
  const upstream = new Upstream(options.upstream);
  const model = new Ec2Model(() => profile, random);
  const faults = new FaultRules(random);
  const throttle = new Throttle();
  const state = newEc2State();
  const accounts = new Accounts(upstream);
  let records: CallRecord[] = [];
  const server = await serve((req) =>
    handle(
      {
        upstream,
        model,
        accounts,
        faults,
        throttle,
        state,
        profile: () => profile,
        record: (call) => records.push(call),
      },
      req,
    ),
  );
  return {
    endpoint: server.endpoint,
    get profile() {
      return profile;
    },
    setProfile(p) {
      profile = resolveProfile(p);
      throttle.reset();
    },
    addFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    calls: () => [...records],
    resetCalls() {
      records = [];
      state.created.length = 0;
    },
    created: () => [...state.created],
    onEc2Event: (listener) => model.onEvent(listener),
    onEc2Change: (listener) => model.onChange(listener),
    writeConsole(region, instanceId, text) {
      state.consoles.set(`${region}/${instanceId}`, text);
    },
    subscribeMarketplace: (code) => accounts.marketplace.subscribe(code),
    unsubscribeMarketplace: () => accounts.marketplace.unsubscribeAll(),
    async stop() {
      model.stop();
      await server.close();
      upstream.close();
    },
  };
}

const shared = new Map<string, Promise<BehaviourLayer>>();

/** One layer per process per upstream (the handlers' SDK clients are created once and keep their endpoint). */
export function sharedBehaviourLayer(upstream: string): Promise<BehaviourLayer> {
  let layer = shared.get(upstream);
  if (!layer) {
    layer = startBehaviourLayer({ upstream });
    shared.set(upstream, layer);
    layer.catch(() => shared.delete(upstream));
  }
  return layer;
}
