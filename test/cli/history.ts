import { BAKE_ID, EXECUTION_ARN, type FakeHandler } from './helpers.js';

/** Events as Step Functions sends them over the wire (AWS JSON 1.0: timestamps in epoch seconds). */
export interface WireEvent {
  id: number;
  previousEventId: number;
  type: string;
  timestamp: number;
  stateEnteredEventDetails?: { name: string; input: string };
  stateExitedEventDetails?: { name: string; output: string };
  executionFailedEventDetails?: { error: string; cause: string };
}

const T0 = Date.parse('2026-11-26T05:00:00Z') / 1000;

/** Builds a history: `enter` and `exit` at seconds after T0; an exit chains back to its entry. */
export class History {
  readonly events: WireEvent[] = [{ id: 1, previousEventId: 0, type: 'ExecutionStarted', timestamp: T0 }];

  enter(name: string, at: number, input: unknown = {}, type = 'TaskStateEntered'): number {
    return this.push({ type, at, stateEnteredEventDetails: { name, input: JSON.stringify(input) } });
  }

  exit(name: string, at: number, entry: number, output: unknown = {}, type = 'TaskStateExited'): number {
    const scheduled = this.push({ type: 'TaskSucceeded', at, previous: entry });
    return this.push({
      type,
      at,
      previous: scheduled,
      stateExitedEventDetails: { name, output: JSON.stringify(output) },
    });
  }

  /** An event without state details, e.g. `TaskFailed` or `ExecutionSucceeded`. */
  event(type: string, at: number, details: Partial<WireEvent> = {}): number {
    const id = this.push({ type, at });
    Object.assign(this.events[id - 1] ?? {}, details);
    return id;
  }

  /** A state that starts at `at` and takes `seconds`. */
  stage(name: string, at: number, seconds: number, output: unknown = {}, input: unknown = {}): number {
    this.exit(name, at + seconds, this.enter(name, at, input), output);
    return at + seconds;
  }

  private push(e: {
    type: string;
    at: number;
    previous?: number;
    stateEnteredEventDetails?: WireEvent['stateEnteredEventDetails'];
    stateExitedEventDetails?: WireEvent['stateExitedEventDetails'];
  }): number {
    const id = this.events.length + 1;
    this.events.push({
      id,
      previousEventId: e.previous ?? id - 1,
      type: e.type,
      timestamp: T0 + e.at,
      ...(e.stateEnteredEventDetails && { stateEnteredEventDetails: e.stateEnteredEventDetails }),
      ...(e.stateExitedEventDetails && { stateExitedEventDetails: e.stateExitedEventDetails }),
    });
    return id;
  }
}

export const IMAGES = {
  'us-east-1': { imageId: 'ami-0aaaaaaaaaaaaaaa1', snapshotIds: ['snap-0aaaaaaaaaaaaaaa1'] },
  'eu-west-1': { imageId: 'ami-0bbbbbbbbbbbbbbb2', snapshotIds: ['snap-0bbbbbbbbbbbbbbb2'] },
  'ap-southeast-2': { imageId: 'ami-0ccccccccccccccc3', snapshotIds: ['snap-0ccccccccccccccc3'] },
};
const recipe = { name: 'example-web' };
const imageName = 'example-web-20261126-050000-7a1c';

/** A whole successful bake; the two copies run at once and finish in the other order. */
export function succeededBake(): { history: History; output: unknown } {
  const { history: h, at: t, output } = deliveredBake();
  const end = h.stage('PublishBakeSucceeded', t, 0.5);
  h.enter('BakeSucceeded', end, {}, 'SucceedStateEntered');
  h.event('ExecutionSucceeded', end);
  return { history: h, output };
}

/**
 * Every image finished and shared, but Bake Succeeded could not be published: PublishBakeSucceeded
 * fails for good and the bake ends in the Fail state BakeSucceededUnannounced, images kept.
 */
export function unannouncedBake(): History {
  const { history: h, at: t, output } = deliveredBake();
  const failure = {
    PublishBakeSucceeded: {
      Error: 'EventNotPublishedError',
      Cause: JSON.stringify({ errorMessage: 'Bake Succeeded: AccessDeniedException Not authorized' }),
    },
  };
  // Left through its Catch: no exit event; it ends when the Fail state is entered.
  h.enter('PublishBakeSucceeded', t);
  h.event('LambdaFunctionFailed', t + 3000);
  h.enter('BakeSucceededUnannounced', t + 3000, { ...output, failure }, 'FailStateEntered');
  h.event('ExecutionFailed', t + 3000, {
    executionFailedEventDetails: {
      error: 'BakeSucceededNotAnnounced',
      cause: 'The images exist and were kept in every region; Bake Succeeded was not published.',
    },
  });
  return h;
}

/** A bake up to DistributeImage: its images finished, shared and distributed in every region. */
function deliveredBake(): { history: History; at: number; output: Record<string, unknown> } {
  const h = new History();
  let t = h.stage('ResolveRecipe', 0, 1.5, { context: { imageName } });
  t = h.stage('PublishBakeStarted', t, 0.25);
  t = h.stage('LaunchBuilder', t, 3);
  t = h.stage('WaitForBuilder', t, 312);
  t = h.stage('StopBuilder', t, 20);
  t = h.stage('CreateImage', t, 1);
  t = h.stage('WaitForImage', t, 240);
  const map = h.enter('CopyImages', t, {}, 'MapStateEntered');
  const eu = h.enter('CopyImage', t, { target: { region: 'eu-west-1' } });
  const ap = h.enter('CopyImage', t, { target: { region: 'ap-southeast-2' } });
  h.exit('CopyImage', t + 2, ap, { target: { region: 'ap-southeast-2' } });
  h.exit('CopyImage', t + 3, eu, { target: { region: 'eu-west-1' } });
  const apWait = h.enter('WaitForCopy', t + 2, { target: { region: 'ap-southeast-2' } });
  const euWait = h.enter('WaitForCopy', t + 3, { target: { region: 'eu-west-1' } });
  h.exit('WaitForCopy', t + 400, euWait, {});
  h.exit('WaitForCopy', t + 600, apWait, {});
  h.exit('CopyImages', t + 600, map, {}, 'MapStateExited');
  const at = '2026-11-26T05:20:00Z';
  t = h.stage('FinalizeImage', t + 600, 4, { finalized: { images: IMAGES, at } });
  t = h.stage('TerminateBuilder', t, 1);
  t = h.stage('DistributeImage', t, 0.5);
  return { history: h, at: t, output: { context: { imageName }, finalized: { images: IMAGES, at } } };
}

/** A bake whose bootstrap failed: Cleanup ran and PublishBakeFailed said so. */
export function failedBake(): History {
  const h = new History();
  let t = h.stage('ResolveRecipe', 0, 1.5, { context: { imageName } });
  t = h.stage('PublishBakeStarted', t, 0.25);
  t = h.stage('LaunchBuilder', t, 3);
  const failure = {
    WaitForBuilder: {
      Error: 'BootstrapFailedError',
      Cause: JSON.stringify({ errorMessage: 'bootstrap exited 3: dnf: no package nginx-foo' }),
    },
  };
  // A state left through its Catch has no exit event: it ends when Cleanup is entered.
  h.enter('WaitForBuilder', t);
  h.event('TaskFailed', t + 95);
  t = h.stage('Cleanup', t + 95, 12, {}, { failure });
  const cleanup = {
    terminatedInstances: [{ region: 'us-east-1', instanceId: 'i-0123456789abcdef0' }],
    deregisteredImages: [],
    deletedSnapshots: [],
    problems: [],
  };
  t = h.stage('PublishBakeFailed', t, 0.5, {}, { failure, cleanup });
  h.enter('BakeFailed', t, {}, 'FailStateEntered');
  h.event('ExecutionFailed', t, {
    executionFailedEventDetails: { error: 'BakeFailed', cause: 'The bake failed and was cleaned up' },
  });
  return h;
}

export function execution(status: string, extra: Record<string, unknown> = {}) {
  return {
    executionArn: EXECUTION_ARN,
    stateMachineArn: EXECUTION_ARN.replace(':execution:', ':stateMachine:').replace(`:${BAKE_ID}`, ''),
    name: BAKE_ID,
    status,
    startDate: T0,
    input: JSON.stringify({ bakeId: BAKE_ID, recipe }),
    ...extra,
  };
}

/**
 * Step Functions for one execution that moves on by `step` events each time its history is read,
 * ending as `final` once the whole history has been shown.
 */
export function progressing(history: History, final: Record<string, unknown>, step = 6): FakeHandler {
  let shown = 0;
  return ({ target }) => {
    const done = shown >= history.events.length;
    if (target === 'AWSStepFunctions.DescribeExecution')
      return { body: done ? { ...execution('RUNNING'), ...final } : execution('RUNNING') };
    if (target === 'AWSStepFunctions.GetExecutionHistory') {
      shown = Math.min(shown + step, history.events.length);
      return { body: { events: history.events.slice(0, shown) } };
    }
    return { status: 400, body: { __type: 'UnknownOperationException', message: target } };
  };
}
