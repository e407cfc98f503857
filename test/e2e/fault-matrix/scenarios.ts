import type { FaultRule, Profile } from '../../../local/aws-behaviour/index.js';
import type { BuilderBehaviour } from '../../../local/builder.js';

/**
 * The fault matrix of issue 6: every stage of a bake against what real AWS does to it. Each
 * scenario runs a whole local bake on the `faults` profile of the AWS-behaviour layer (pending
 * states, eventual consistency, late and duplicate EC2 events) with the faults below injected at
 * the AWS API, then checks the outcome, the stage, the events, and that nothing of the bake was
 * left behind or created twice, in any region. docs/reliability.md is generated from this list
 * and the last run (`npm run reliability`).
 */
export type Outcome = 'succeeded' | 'failed' | 'unannounced';

export interface Scenario {
  name: string;
  /** The stage the fault hits. */
  stage: string;
  /** The kind of trouble, one column of the matrix. */
  kind: Kind;
  faults?: FaultRule[];
  /** Faults end once this state has failed (AWS recovers after the stage gave up). */
  faultsUntilFailed?: string;
  builder?: BuilderBehaviour;
  failCopyRegions?: string[];
  /** Overrides of the `faults` profile. */
  profile?: Partial<Profile>;
  /** Bootstrap budget in minutes (AWS time). */
  bootstrapMinutes?: number;
  /** Something done from outside while the bake runs, when this state starts. */
  during?: { state: string; action: 'terminate-builder' | 'cancel' };
  expect: { outcome: Outcome; stage?: string; error?: string };
  /** What makes this outcome hold (for docs/reliability.md). */
  relies: string;
}

export type Kind =
  | 'throttled, recovers'
  | 'throttled beyond the budget'
  | '5xx'
  | 'response lost after the effect'
  | 'connection dropped after the effect'
  | 'new id not yet visible'
  | 'resource ends failed'
  | 'cancel mid-way'
  | 'builder never reports'
  | 'builder fails'
  | 'builder terminated from outside'
  | 'copy fails in one region'
  | "cleanup's own calls fail"
  | 'event publishing fails'
  | 'late and duplicate events';

const THROTTLED = { code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' };
const INTERNAL = { code: 'InternalError', status: 500, message: 'An internal error has occurred' };
const UNAVAILABLE = { code: 'Unavailable', status: 503, message: 'The server is overloaded' };

/** The AWS call that is each stage's side effect (or its first call). */
interface Target {
  stage: string;
  service?: string;
  action: string;
  region?: string;
  /** For the 'beyond the budget' column: how the bake ends. */
  beyond: { outcome: Outcome; stage?: string };
  relies: string;
}

const TARGETS: Target[] = [
  {
    stage: 'ResolveRecipe',
    service: 'ssm',
    action: 'GetParameter',
    beyond: { outcome: 'failed', stage: 'ResolveRecipe' },
    relies: 'SDK retries (5 attempts), then the state Retry on the transient error names',
  },
  {
    stage: 'PublishBakeStarted',
    service: 'events',
    action: 'PutEvents',
    beyond: { outcome: 'failed', stage: 'PublishBakeStarted' },
    relies: 'SDK retries, then the state Retry; nothing was created yet',
  },
  {
    stage: 'LaunchBuilder',
    action: 'RunInstances',
    beyond: { outcome: 'failed', stage: 'LaunchBuilder' },
    relies: 'ClientToken on RunInstances: a retry after a lost response returns the first instance',
  },
  {
    stage: 'CreateImage',
    action: 'CreateImage',
    beyond: { outcome: 'failed', stage: 'CreateImage' },
    relies: 'InvalidAMIName.Duplicate on a retry adopts the image tagged with the bake id',
  },
  {
    stage: 'CopyImages',
    action: 'CopyImage',
    region: 'eu-west-1',
    beyond: { outcome: 'failed', stage: 'CopyImages' },
    relies: 'ClientToken on CopyImage; tags given at creation (TagSpecifications), never CreateTags after',
  },
  {
    stage: 'FinalizeImage',
    action: 'ModifyImageAttribute',
    beyond: { outcome: 'failed', stage: 'FinalizeImage' },
    relies: 'launch permissions are idempotent: a retry sets the same values (tags were given at creation)',
  },
  {
    stage: 'TerminateBuilder',
    action: 'TerminateInstances',
    beyond: { outcome: 'failed', stage: 'TerminateBuilder' },
    relies: 'TerminateInstances is idempotent; Cleanup terminates what TerminateBuilder could not',
  },
  {
    stage: 'StopBuilder',
    action: 'DescribeInstances',
    region: 'us-east-1',
    beyond: { outcome: 'failed' },
    relies:
      'every reader of instance state retries (registerWait, the reconciler; StopBuilder only when the wait did not see the builder stopped); the reconciler answers a wait whose event was missed',
  },
];

function rule(t: Target, extra: Partial<FaultRule> & Pick<FaultRule, 'effect'>): FaultRule {
  return {
    service: t.service ?? 'ec2',
    action: t.action,
    ...(t.region ? { region: t.region } : {}),
    ...extra,
  };
}

function matrixRows(): Scenario[] {
  const rows: Scenario[] = [];
  for (const t of TARGETS) {
    const at = `${t.stage} (${t.action}${t.region ? ` in ${t.region}` : ''})`;
    rows.push({
      name: `${at}: throttled twice, then recovers`,
      stage: t.stage,
      kind: 'throttled, recovers',
      faults: [rule(t, { effect: 'error-before', calls: [1, 2], error: THROTTLED })],
      expect: { outcome: 'succeeded' },
      relies: `SDK standard retry with backoff; ${t.relies}`,
    });
    rows.push({
      name: `${at}: throttled until the stage gives up`,
      stage: t.stage,
      kind: 'throttled beyond the budget',
      faults: [rule(t, { effect: 'error-before', error: THROTTLED })],
      faultsUntilFailed: t.beyond.stage ?? t.stage,
      expect: t.beyond,
      relies:
        'the state fails after its Retry budget; Cleanup removes everything by tag and by the ids in the state',
    });
    rows.push({
      name: `${at}: 5xx (InternalError, then Unavailable)`,
      stage: t.stage,
      kind: '5xx',
      faults: [
        rule(t, { effect: 'error-before', calls: [1], error: INTERNAL }),
        rule(t, { effect: 'error-before', calls: [2], error: UNAVAILABLE }),
      ],
      expect: { outcome: 'succeeded' },
      relies: `SDK retries 5xx; the state Retry lists InternalError, Unavailable, InternalFailure; ${t.relies}`,
    });
    if (t.action !== 'DescribeInstances') {
      rows.push({
        name: `${at}: response lost after the effect`,
        stage: t.stage,
        kind: 'response lost after the effect',
        faults: [rule(t, { effect: 'error-after', calls: [1], error: INTERNAL })],
        expect: { outcome: 'succeeded' },
        relies: t.relies,
      });
      rows.push({
        name: `${at}: connection dropped after the effect`,
        stage: t.stage,
        kind: 'connection dropped after the effect',
        faults: [rule(t, { effect: 'drop-after', calls: [1] })],
        expect: { outcome: 'succeeded' },
        relies: t.relies,
      });
    }
  }
  return rows;
}

export const SCENARIOS: Scenario[] = [
  ...matrixRows(),
  {
    name: 'every new id stays invisible for 30 s (AWS time)',
    stage: 'LaunchBuilder',
    kind: 'new id not yet visible',
    profile: { consistencyWindow: 30 },
    expect: { outcome: 'succeeded' },
    relies:
      'no call names a new id right after creating it; waits treat NotFound as pending; tags at creation',
  },
  {
    name: 'new ids invisible while a copy fails: cleanup still removes the copies',
    stage: 'CopyImages',
    kind: 'new id not yet visible',
    profile: { consistencyWindow: 30 },
    failCopyRegions: ['ap-southeast-2'],
    expect: { outcome: 'failed', stage: 'CopyImages' },
    relies: 'Cleanup uses the ids in the execution state as well as the bake-id tag',
  },
  {
    name: 'CreateImage: the new image ends failed',
    stage: 'WaitForImage',
    kind: 'resource ends failed',
    failCopyRegions: ['us-east-1'],
    expect: { outcome: 'failed', stage: 'WaitForImage', error: 'ImageFailedError' },
    relies: 'the wait answers failure from the AMI state; Cleanup deregisters and deletes its snapshots',
  },
  {
    name: 'a copy fails in one region (ap-southeast-2)',
    stage: 'CopyImages',
    kind: 'copy fails in one region',
    failCopyRegions: ['ap-southeast-2'],
    expect: { outcome: 'failed', stage: 'CopyImages', error: 'ImageFailedError' },
    relies: 'the failure names the region; Cleanup runs in every region',
  },
  {
    name: 'cancel while the builder boots',
    stage: 'WaitForBuilder',
    kind: 'cancel mid-way',
    builder: 'hang',
    during: { state: 'WaitForBuilder', action: 'cancel' },
    expect: { outcome: 'failed', stage: 'WaitForBuilder', error: 'BakeCancelled' },
    relies: 'cancel stops the execution, then runs the same tag-driven cleanup and publishes Bake Failed',
  },
  {
    name: 'cancel while the copies run',
    stage: 'CopyImages',
    kind: 'cancel mid-way',
    profile: { durations: { instanceLaunch: 0, instanceStop: 5, instanceTerminate: 0, image: 0, copy: 600 } },
    during: { state: 'WaitForCopy', action: 'cancel' },
    expect: { outcome: 'failed', error: 'BakeCancelled' },
    relies: 'copies still pending are deregistered by tag in their regions',
  },
  {
    name: 'the builder never reports',
    stage: 'WaitForBuilder',
    kind: 'builder never reports',
    builder: 'hang',
    bootstrapMinutes: 1,
    expect: { outcome: 'failed', stage: 'WaitForBuilder', error: 'States.Timeout' },
    relies: "the wait's budget (TimeoutSecondsPath from the recipe), not a number of polls",
  },
  {
    name: "the builder's script fails",
    stage: 'WaitForBuilder',
    kind: 'builder fails',
    builder: 'fail',
    expect: { outcome: 'failed', stage: 'WaitForBuilder', error: 'BootstrapFailedError' },
    relies: 'the result tag (or the serial console) carries the outcome',
  },
  {
    name: 'the builder is terminated from outside',
    stage: 'WaitForBuilder',
    kind: 'builder terminated from outside',
    builder: 'hang',
    during: { state: 'WaitForBuilder', action: 'terminate-builder' },
    expect: { outcome: 'failed', stage: 'WaitForBuilder', error: 'BootstrapNoResultError' },
    relies: 'the terminated event (or the reconciler) answers the wait with a failure at once',
  },
  {
    name: "cleanup's DeregisterImage fails twice",
    stage: 'Cleanup',
    kind: "cleanup's own calls fail",
    failCopyRegions: ['eu-west-1'],
    faults: [{ action: 'DeregisterImage', calls: [1, 2], effect: 'error-before', error: INTERNAL }],
    expect: { outcome: 'failed', stage: 'CopyImages' },
    relies: 'Cleanup retries CleanupIncompleteError; snapshots are tagged before their image is deregistered',
  },
  {
    name: "cleanup's TerminateInstances throttled",
    stage: 'Cleanup',
    kind: "cleanup's own calls fail",
    builder: 'fail',
    faults: [
      { action: 'TerminateInstances', calls: [1, 2, 3, 4, 5, 6], effect: 'error-before', error: THROTTLED },
    ],
    expect: { outcome: 'failed', stage: 'WaitForBuilder' },
    relies: 'SDK retries, then the Cleanup Retry; Bake Failed lists what every attempt removed',
  },
  {
    name: 'Bake Started is throttled as a failed PutEvents entry, then published',
    stage: 'PublishBakeStarted',
    kind: 'event publishing fails',
    faults: [{ service: 'events', action: 'PutEvents', calls: [1], effect: 'failed-entry' }],
    expect: { outcome: 'succeeded' },
    relies: 'a throttled failed entry is retried, a permanent one is not',
  },
  {
    name: 'Bake Succeeded cannot be published for good: images kept',
    stage: 'PublishBakeSucceeded',
    kind: 'event publishing fails',
    faults: [{ service: 'events', action: 'PutEvents', from: 2, effect: 'failed-entry' }],
    // PublishBakeSucceeded retries for about an hour of AWS time: a 600x clock makes that 6 s.
    profile: { clock: 600 },
    bootstrapMinutes: 60,
    expect: { outcome: 'unannounced', stage: 'PublishBakeSucceeded' },
    relies: 'a notification failure never routes to Cleanup: distinct outcome, images kept, alarm raised',
  },
  {
    name: 'Bake Failed cannot be published: the bake is still cleaned up',
    stage: 'PublishBakeFailed',
    kind: 'event publishing fails',
    builder: 'fail',
    faults: [{ service: 'events', action: 'PutEvents', from: 2, effect: 'error-before', error: INTERNAL }],
    expect: { outcome: 'failed', stage: 'WaitForBuilder' },
    relies: 'Cleanup runs before PublishBakeFailed; the execution still ends failed',
  },
  {
    name: 'EC2 events arrive late and twice',
    stage: 'WaitForImage',
    kind: 'late and duplicate events',
    profile: { events: { delay: [5, 40], duplicateProbability: 1 } },
    expect: { outcome: 'succeeded' },
    relies: 'resumeWait answers a token once; a second answer to a spent token is harmless',
  },
];
