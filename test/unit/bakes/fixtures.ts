import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import type { FetchedBake } from '../../../lib/bakes/status.js';
import { executionArn } from '../../../lib/start/executions.js';
import { context, recipe } from '../functions/fixtures.js';

/**
 * Realistic Step Functions histories of one bake of recipe `web` (built in us-east-1, copied to
 * eu-west-1 and ap-southeast-2), as GetExecutionHistory returns them: every state's input and
 * output is the whole state as a JSON string; a state left by a Catch has no *StateExited event.
 */

export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ami-bake';
export const BAKE_ID = 'web_0123456789ab_20261126050000a1b2';
export const EXECUTION_ARN = executionArn(STATE_MACHINE_ARN, BAKE_ID);
export const STARTED = new Date('2026-11-26T05:00:00.000Z');

export const webRecipe = recipe({ distribution: { regions: ['eu-west-1', 'ap-southeast-2'] } });
const input = { bakeId: BAKE_ID, recipe: webRecipe, request: { source: 'api' } };
const bakeContext = context({ bakeId: BAKE_ID, startedAt: STARTED.toISOString() });

const SOURCE = { imageId: 'ami-0aaaaaaaaaaaaaaa1', snapshotIds: ['snap-0aaaaaaaaaaaaaaa1'] };
const EU = { imageId: 'ami-0eeeeeeeeeeeeeee1', snapshotIds: ['snap-0eeeeeeeeeeeeeee1'] };
const AP = { imageId: 'ami-0bbbbbbbbbbbbbbb1', snapshotIds: ['snap-0bbbbbbbbbbbbbbb1'] };

/** Builds a history with a clock: each event is `after` seconds after the previous one. */
class History {
  readonly events: HistoryEvent[] = [];
  private t = STARTED.getTime();
  state: Record<string, unknown> = { ...input };

  add(type: HistoryEventType | string, details: Partial<HistoryEvent> = {}, after = 1): this {
    this.t += after * 1000;
    const id = this.events.length + 1;
    this.events.push({
      id,
      previousEventId: id - 1,
      type: type as HistoryEventType,
      timestamp: new Date(this.t),
      ...details,
    });
    return this;
  }

  enter(name: string, kind = 'Task', after = 1): this {
    return this.add(
      `${kind}StateEntered`,
      {
        stateEnteredEventDetails: { name, input: JSON.stringify(this.state) },
      },
      after,
    );
  }

  exit(name: string, result: Record<string, unknown>, after = 1, kind = 'Task'): this {
    this.state = { ...this.state, ...result };
    return this.add(
      `${kind}StateExited`,
      {
        stateExitedEventDetails: { name, output: JSON.stringify(this.state) },
      },
      after,
    );
  }

  /** A Lambda Task that succeeds after `seconds`. */
  task(name: string, result: Record<string, unknown>, seconds = 2): this {
    return this.enter(name)
      .add('LambdaFunctionScheduled')
      .add('LambdaFunctionStarted', {}, 0)
      .add('LambdaFunctionSucceeded', {}, seconds - 1)
      .exit(name, result, 0);
  }

  /** A waitForTaskToken Task answered after `seconds`. */
  wait(name: string, result: Record<string, unknown>, seconds: number): this {
    return this.enter(name)
      .add('TaskScheduled')
      .add('TaskStarted', {}, 0)
      .add('TaskSubmitted', {}, 0)
      .add('TaskSucceeded', {}, seconds - 1)
      .exit(name, result, 0);
  }
}

const at = (h: History) => new Date(h.events.at(-1)?.timestamp ?? STARTED).toISOString();

function untilWaitForBuilder(): History {
  const h = new History().add(
    'ExecutionStarted',
    {
      executionStartedEventDetails: { input: JSON.stringify(input) },
    },
    0,
  );
  h.task('ResolveRecipe', { context: bakeContext }, 3);
  h.task('PublishBakeStarted', {}, 1);
  h.task(
    'LaunchBuilder',
    { builder: { instanceId: 'i-0123456789abcdef0', region: 'us-east-1', at: at(h) } },
    4,
  );
  return h.enter('WaitForBuilder').add('TaskScheduled').add('TaskStarted', {}, 0).add('TaskSubmitted', {}, 0);
}

function untilCopies(): History {
  const h = untilWaitForBuilder();
  h.add('TaskSucceeded', {}, 600).exit(
    'WaitForBuilder',
    { bootstrap: { outcome: 'success', exitCode: 0, at: at(h) } },
    0,
  );
  h.task('StopBuilder', { stopped: { at: at(h) } }, 2);
  h.task('CreateImage', { image: { imageId: SOURCE.imageId, region: 'us-east-1', at: at(h) } }, 2);
  h.wait('WaitForImage', { imageReady: { ...SOURCE, at: at(h) } }, 300);
  h.enter('CopyImages', 'Map').add('MapStateStarted', { mapStateStartedEventDetails: { length: 2 } }, 0);
  return h;
}

function copyIteration(h: History, index: number, region: string, image: typeof EU) {
  const item = { target: { region }, context: bakeContext, image: h.state.image, recipe: webRecipe };
  h.add('MapIterationStarted', { mapIterationStartedEventDetails: { name: 'CopyImages', index } }, 0);
  h.add('TaskStateEntered', { stateEnteredEventDetails: { name: 'CopyImage', input: JSON.stringify(item) } });
  const copy = { region, imageId: image.imageId, at: at(h) };
  h.add('TaskStateExited', {
    stateExitedEventDetails: { name: 'CopyImage', output: JSON.stringify({ ...item, copy }) },
  });
  h.add('TaskStateEntered', {
    stateEnteredEventDetails: { name: 'WaitForCopy', input: JSON.stringify({ ...item, copy }) },
  });
  return { item, copy };
}

function copied(h: History, index: number, region: string, image: typeof EU, seconds: number) {
  const ready = { region, ...image, at: at(h) };
  h.add(
    'TaskStateExited',
    { stateExitedEventDetails: { name: 'WaitForCopy', output: JSON.stringify(ready) } },
    seconds,
  );
  h.add('MapIterationSucceeded', { mapIterationSucceededEventDetails: { name: 'CopyImages', index } }, 0);
  return ready;
}

function execution(
  status: string,
  stop?: Date,
  extra: Record<string, unknown> = {},
): FetchedBake['execution'] {
  return {
    executionArn: EXECUTION_ARN,
    stateMachineArn: STATE_MACHINE_ARN,
    name: BAKE_ID,
    status: status as never,
    startDate: STARTED,
    stopDate: stop,
    input: JSON.stringify(input),
    ...extra,
  };
}

/** Launched the builder and waits for its bootstrap. */
export function runningAtWaitForBuilder(): FetchedBake {
  return { execution: execution('RUNNING'), events: untilWaitForBuilder().events };
}

/** Copies to eu-west-1 and ap-southeast-2 done, images finalized and the builder terminated. */
function untilTerminated() {
  const h = untilCopies();
  copyIteration(h, 0, 'eu-west-1', EU);
  copyIteration(h, 1, 'ap-southeast-2', AP);
  const eu = copied(h, 0, 'eu-west-1', EU, 900);
  const ap = copied(h, 1, 'ap-southeast-2', AP, 300);
  h.add('MapStateSucceeded', {}, 0).exit('CopyImages', { copies: [eu, ap] }, 0, 'Map');
  const images = { 'us-east-1': SOURCE, 'eu-west-1': EU, 'ap-southeast-2': AP };
  h.task('FinalizeImage', { finalized: { images, at: at(h) } }, 5);
  h.task('TerminateBuilder', { terminated: { at: at(h) } }, 2);
  return h;
}

/** Every stage done: images in us-east-1, eu-west-1 and ap-southeast-2, with snapshots. */
export function succeededInThreeRegions(): FetchedBake {
  const h = untilTerminated();
  h.task('PublishBakeSucceeded', { published: { detailType: 'Bake Succeeded' } }, 1);
  h.enter('BakeSucceeded', 'Succeed').exit('BakeSucceeded', {}, 0, 'Succeed');
  h.add('ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify(h.state) } }, 0);
  return { execution: execution('SUCCEEDED', h.events.at(-1)?.timestamp), events: h.events };
}

export const UNANNOUNCED_CAUSE = 'Bake Succeeded: AccessDeniedException Not authorized to put events';

/**
 * Every image finished, tagged and shared, but PublishBakeSucceeded failed for good: the bake
 * ends in the Fail state BakeSucceededUnannounced and keeps its images.
 */
export function unannouncedInThreeRegions(): FetchedBake {
  const h = untilTerminated();
  const lambdaCause = JSON.stringify({
    errorType: 'EventNotPublishedError',
    errorMessage: UNANNOUNCED_CAUSE,
    trace: ['at publishEvent'],
  });
  h.enter('PublishBakeSucceeded').add('LambdaFunctionScheduled').add('LambdaFunctionStarted', {}, 0);
  h.add('LambdaFunctionFailed', {
    lambdaFunctionFailedEventDetails: { error: 'EventNotPublishedError', cause: lambdaCause },
  });
  h.state = {
    ...h.state,
    failure: { PublishBakeSucceeded: { Error: 'EventNotPublishedError', Cause: lambdaCause } },
  };
  h.enter('BakeSucceededUnannounced', 'Fail');
  const cause =
    'The images exist and were kept in every region, shared as the recipe says; Bake Succeeded was not published.';
  h.add('ExecutionFailed', { executionFailedEventDetails: { error: 'BakeSucceededNotAnnounced', cause } }, 0);
  return {
    execution: execution('FAILED', h.events.at(-1)?.timestamp, { error: 'BakeSucceededNotAnnounced', cause }),
    events: h.events,
  };
}

export const COPY_CAUSE =
  'CopyImage to ap-southeast-2 failed: InvalidParameterValue: the KMS key alias/ami does not exist';
export const CLEANUP_REPORT = {
  terminatedInstances: [{ region: 'us-east-1', instanceId: 'i-0123456789abcdef0' }],
  deregisteredImages: [
    { region: 'us-east-1', imageId: SOURCE.imageId },
    { region: 'eu-west-1', imageId: EU.imageId },
  ],
  deletedSnapshots: [
    { region: 'us-east-1', snapshotId: SOURCE.snapshotIds[0] },
    { region: 'eu-west-1', snapshotId: EU.snapshotIds[0] },
  ],
  problems: [],
};

/** The copy to ap-southeast-2 failed (a Lambda error, so its Cause is JSON); cleaned up; Bake Failed sent. */
export function failedAtCopyImages(): FetchedBake {
  const h = untilCopies();
  copyIteration(h, 0, 'eu-west-1', EU);
  const item = {
    target: { region: 'ap-southeast-2' },
    context: bakeContext,
    image: h.state.image,
    recipe: webRecipe,
  };
  h.add('MapIterationStarted', { mapIterationStartedEventDetails: { name: 'CopyImages', index: 1 } }, 0);
  h.add('TaskStateEntered', { stateEnteredEventDetails: { name: 'CopyImage', input: JSON.stringify(item) } });
  const lambdaCause = JSON.stringify({
    errorType: 'ImageFailedError',
    errorMessage: COPY_CAUSE,
    trace: ['at copyImage'],
  });
  h.add('LambdaFunctionFailed', {
    lambdaFunctionFailedEventDetails: { error: 'ImageFailedError', cause: lambdaCause },
  });
  h.add('MapIterationFailed', { mapIterationFailedEventDetails: { name: 'CopyImages', index: 1 } }, 0);
  copied(h, 0, 'eu-west-1', EU, 30);
  h.add('MapStateFailed', {}, 0);
  h.state = { ...h.state, failure: { CopyImages: { Error: 'ImageFailedError', Cause: lambdaCause } } };
  h.task('Cleanup', { cleanup: CLEANUP_REPORT }, 20);
  h.task('PublishBakeFailed', { published: { detailType: 'Bake Failed' } }, 1);
  h.enter('BakeFailed', 'Fail');
  h.add(
    'ExecutionFailed',
    {
      executionFailedEventDetails: { error: 'BakeFailed', cause: 'The bake failed and was cleaned up' },
    },
    0,
  );
  return { execution: execution('FAILED', h.events.at(-1)?.timestamp), events: h.events };
}

export const CANCEL_CAUSE = 'cancelled through the API by arn:aws:iam::123456789012:user/alice';

/** Stopped with StopExecution while the source image was being created. */
export function abortedAtWaitForImage(): FetchedBake {
  const h = untilWaitForBuilder();
  h.add('TaskSucceeded', {}, 600).exit(
    'WaitForBuilder',
    { bootstrap: { outcome: 'success', exitCode: 0, at: at(h) } },
    0,
  );
  h.task('StopBuilder', { stopped: { at: at(h) } }, 2);
  h.task('CreateImage', { image: { imageId: SOURCE.imageId, region: 'us-east-1', at: at(h) } }, 2);
  h.enter('WaitForImage').add('TaskScheduled').add('TaskStarted', {}, 0);
  h.add(
    'ExecutionAborted',
    { executionAbortedEventDetails: { error: 'BakeCancelled', cause: CANCEL_CAUSE } },
    60,
  );
  return {
    execution: execution('ABORTED', h.events.at(-1)?.timestamp, {
      error: 'BakeCancelled',
      cause: CANCEL_CAUSE,
    }),
    events: h.events,
  };
}

/** Still running, but already failing: the builder's bootstrap failed and Cleanup runs. */
export function runningInCleanup(): FetchedBake {
  const h = untilWaitForBuilder();
  h.add(
    'TaskFailed',
    {
      taskFailedEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        error: 'BootstrapFailedError',
        cause: 'exit code 2',
      },
    },
    120,
  );
  h.state = {
    ...h.state,
    failure: { WaitForBuilder: { Error: 'BootstrapFailedError', Cause: 'exit code 2' } },
  };
  h.enter('Cleanup').add('LambdaFunctionScheduled');
  return { execution: execution('RUNNING'), events: h.events };
}

export const SOURCE_IMAGE = SOURCE;
export const EU_IMAGE = EU;
export const AP_IMAGE = AP;
