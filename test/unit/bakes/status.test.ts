import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { builderLine } from '../../../cli/format.js';
import {
  BAKE_NOT_ANNOUNCED,
  type FetchedBake,
  fetchBake,
  recipeOfBakeId,
  summarizeBake,
} from '../../../lib/bakes/status.js';
import { summaryTimeline } from '../../../lib/bakes/timeline.js';
import { awsError } from '../functions/fixtures.js';
import {
  AP_IMAGE,
  abortedAtWaitForImage,
  BAKE_ID,
  CANCEL_CAUSE,
  CLEANUP_REPORT,
  COPY_CAUSE,
  EU_IMAGE,
  EXECUTION_ARN,
  failedAtCopyImages,
  runningAtWaitForBuilder,
  runningInCleanup,
  SOURCE_IMAGE,
  STATE_MACHINE_ARN,
  succeededInThreeRegions,
  UNANNOUNCED_CAUSE,
  unannouncedInThreeRegions,
} from './fixtures.js';

const names = (stages: { name: string }[]) => stages.map((s) => s.name);

describe('summarizeBake', () => {
  it('reports a bake waiting for its builder as RUNNING at WaitForBuilder, earlier stages timed', () => {
    // Act
    const bake = summarizeBake(runningAtWaitForBuilder());

    // Assess
    expect(bake).toMatchObject({
      bakeId: BAKE_ID,
      recipe: 'web',
      status: 'RUNNING',
      stage: 'WaitForBuilder',
    });
    expect(names(bake.stages)).toEqual([
      'ResolveRecipe',
      'PublishBakeStarted',
      'LaunchBuilder',
      'WaitForBuilder',
    ]);
    expect(bake.stages[0]).toMatchObject({ outcome: 'succeeded', seconds: 3 });
    expect(bake.stages.at(-1)).toEqual({
      name: 'WaitForBuilder',
      enteredAt: expect.any(String),
      outcome: 'running',
    });
    expect(bake.images).toEqual({});
    expect(bake.error).toBeUndefined();
    expect(bake.stoppedAt).toBeUndefined();
  });

  it('reports a succeeded bake with its image and snapshots in all three regions and no current stage', () => {
    // Act
    const bake = summarizeBake(succeededInThreeRegions());

    // Assess
    expect(bake.status).toBe('SUCCEEDED');
    expect(bake.stage).toBeNull();
    expect(bake.images).toEqual({
      'us-east-1': SOURCE_IMAGE,
      'eu-west-1': EU_IMAGE,
      'ap-southeast-2': AP_IMAGE,
    });
    expect(bake.stoppedAt).toBeDefined();
    expect(bake.error).toBeUndefined();
  });

  it("reports the builder's type and market, and the capacity refusals before it", () => {
    // Prepare
    const refused = { instanceType: 'm7i.large', market: 'on-demand', error: 'InsufficientInstanceCapacity' };
    const fetched = runningAtWaitForBuilder();
    const launched = fetched.events.find((e) => e.stateExitedEventDetails?.name === 'LaunchBuilder');
    const details = launched?.stateExitedEventDetails ?? expect.fail('no LaunchBuilder exit');
    const state = JSON.parse(details.output ?? '{}');
    state.builder = { ...state.builder, instanceType: 'm6i.large', market: 'on-demand', attempts: [refused] };
    details.output = JSON.stringify(state);

    // Act
    const bake = summarizeBake(fetched);
    const older = summarizeBake(runningAtWaitForBuilder());

    // Assess
    expect(bake.builder).toEqual({ instanceType: 'm6i.large', market: 'on-demand', attempts: [refused] });
    expect(builderLine(bake.builder ?? expect.fail('no builder'))).toBe(
      'Builder: m6i.large (on-demand) after m7i.large: InsufficientInstanceCapacity',
    );
    expect(older.builder).toBeUndefined();
  });

  it('lists each top-level state once, in order, and not the CopyImage and WaitForCopy states inside the Map', () => {
    // Act
    const bake = summarizeBake(succeededInThreeRegions());

    // Assess
    expect(names(bake.stages)).toEqual([
      'ResolveRecipe',
      'PublishBakeStarted',
      'LaunchBuilder',
      'WaitForBuilder',
      'StopBuilder',
      'CreateImage',
      'WaitForImage',
      'CopyImages',
      'FinalizeImage',
      'TerminateBuilder',
      'PublishBakeSucceeded',
    ]);
    expect(bake.stages.every((s) => s.outcome === 'succeeded')).toBe(true);
  });

  it('times each stage from its entered to its exited event, the Map included', () => {
    // Act
    const bake = summarizeBake(succeededInThreeRegions());

    // Assess
    const byName = Object.fromEntries(bake.stages.map((s) => [s.name, s.seconds]));
    expect(byName.WaitForBuilder).toBe(601);
    expect(byName.WaitForImage).toBe(300);
    // The Map lasts until its last iteration ends: 6 s of copy calls, then 900 s and 300 s more.
    expect(byName.CopyImages).toBe(1206);
  });

  it('times each copy in its own lane, from CopyImage entered to WaitForCopy exited', () => {
    const s = summarizeBake(succeededInThreeRegions());
    const [eu, ap] = s.lanes ?? [];
    expect([eu?.lane, eu?.outcome, ap?.lane, ap?.outcome]).toEqual([
      'eu-west-1',
      'succeeded',
      'ap-southeast-2',
      'succeeded',
    ]);
    // The history: both copies start within seconds; eu-west-1 is done after 900 s, ap-southeast-2 300 s later.
    expect(eu?.seconds).toBeGreaterThanOrEqual(900);
    expect(eu?.seconds).toBeLessThan(910);
    expect(ap?.seconds).toBeGreaterThanOrEqual(1200);
    expect(ap?.seconds).toBeLessThan(1210);
  });

  it('draws the copies side by side in the timeline, in place of their Map', () => {
    const timeline = summaryTimeline(summarizeBake(succeededInThreeRegions()));
    const copies = timeline?.bars.filter((b) => b.stage === 'CopyImages') ?? [];
    expect(copies.map((b) => b.lane)).toEqual(['eu-west-1', 'ap-southeast-2']);
    // Side by side: the second copy starts seconds after the first, not after it ends.
    expect((copies[1]?.startSeconds ?? 0) - (copies[0]?.startSeconds ?? 0)).toBeLessThan(10);
    expect(copies[1]?.startSeconds).toBeLessThan(copies[0]?.endSeconds ?? 0);
    expect(timeline?.bars.filter((b) => b.stage === 'CopyImages' && b.lane === '')).toEqual([]);
    expect(timeline?.bars[0]).toMatchObject({ stage: 'ResolveRecipe', startSeconds: 0 });
  });

  it('ends the lane of a copy that failed as failed, when its Map fails', () => {
    const s = summarizeBake(failedAtCopyImages());
    expect(s.lanes?.map((l) => [l.lane, l.outcome])).toEqual([
      ['eu-west-1', 'succeeded'],
      ['ap-southeast-2', 'failed'],
    ]);
  });

  it('reports a bake failed at CopyImages with that stage, the unwrapped Lambda cause and the cleanup', () => {
    // Act
    const bake = summarizeBake(failedAtCopyImages());

    // Assess
    expect(bake.status).toBe('FAILED');
    expect(bake.stage).toBe('CopyImages');
    expect(bake.error).toEqual({ stage: 'CopyImages', error: 'ImageFailedError', cause: COPY_CAUSE });
    expect(bake.cleanup).toEqual(CLEANUP_REPORT);
  });

  it('marks the state left through its Catch as failed and the failure path as succeeded', () => {
    // Act
    const bake = summarizeBake(failedAtCopyImages());

    // Assess
    const outcomes = Object.fromEntries(bake.stages.map((s) => [s.name, s.outcome]));
    expect(outcomes).toMatchObject({
      WaitForImage: 'succeeded',
      CopyImages: 'failed',
      Cleanup: 'succeeded',
      PublishBakeFailed: 'succeeded',
    });
    expect(names(bake.stages)).not.toContain('BakeFailed');
  });

  it('still lists the images a failed bake created before it failed (cleanup says what was removed)', () => {
    // Act
    const bake = summarizeBake(failedAtCopyImages());

    // Assess
    expect(bake.images).toEqual({ 'us-east-1': SOURCE_IMAGE, 'eu-west-1': EU_IMAGE });
  });

  it('reports an aborted bake at the stage it was stopped in, with the stop error and cause', () => {
    // Act
    const bake = summarizeBake(abortedAtWaitForImage());

    // Assess
    expect(bake).toMatchObject({ status: 'ABORTED', stage: 'WaitForImage' });
    expect(bake.error).toEqual({ error: 'BakeCancelled', cause: CANCEL_CAUSE });
    expect(bake.stages.at(-1)).toMatchObject({ name: 'WaitForImage', outcome: 'aborted', seconds: 61 });
    expect(bake.images).toEqual({ 'us-east-1': { imageId: SOURCE_IMAGE.imageId } });
  });

  it('reports the failure a running bake is cleaning up after, before the bake ends', () => {
    // Act
    const bake = summarizeBake(runningInCleanup());

    // Assess
    expect(bake).toMatchObject({ status: 'RUNNING', stage: 'Cleanup' });
    expect(bake.error).toEqual({
      stage: 'WaitForBuilder',
      error: 'BootstrapFailedError',
      cause: 'exit code 2',
    });
  });

  it('falls back to the ExecutionFailed error when the state machine recorded no failure', () => {
    // Prepare
    const fetched = runningAtWaitForBuilder();
    fetched.execution.status = 'FAILED';
    fetched.events.push({
      id: fetched.events.length + 1,
      type: 'ExecutionFailed',
      timestamp: new Date('2026-11-26T06:00:00Z'),
      executionFailedEventDetails: {
        error: 'States.Runtime',
        cause: 'An error occurred while executing the state',
      },
    });

    // Act
    const bake = summarizeBake(fetched);

    // Assess
    expect(bake.error).toEqual({
      error: 'States.Runtime',
      cause: 'An error occurred while executing the state',
    });
    expect(bake.stage).toBe('WaitForBuilder');
    expect(bake.stages.at(-1)?.outcome).toBe('failed');
  });

  it('reads events in id order even when they arrive newest first', () => {
    // Prepare
    const fetched = succeededInThreeRegions();
    fetched.events.reverse();

    // Act
    const bake = summarizeBake(fetched);

    // Assess
    expect(bake).toEqual(summarizeBake(succeededInThreeRegions()));
  });

  it('takes the recipe from the bake id when the execution input is unreadable', () => {
    // Prepare
    const fetched = runningAtWaitForBuilder();
    fetched.execution.input = 'not json';

    // Act
    const bake = summarizeBake(fetched);

    // Assess
    expect(bake.recipe).toBe('web');
    expect(recipeOfBakeId('example-web_k0123')).toBe('example-web');
  });
});

describe('summarizeBake, when the images were delivered but Bake Succeeded was not published', () => {
  it('reports the images as kept, in every region, with the failed announcement as the error', () => {
    // Act
    const bake = summarizeBake(unannouncedInThreeRegions());

    // Assess
    expect(bake).toMatchObject({ status: 'FAILED', stage: 'PublishBakeSucceeded', announced: false });
    expect(bake.images).toEqual({
      'us-east-1': SOURCE_IMAGE,
      'eu-west-1': EU_IMAGE,
      'ap-southeast-2': AP_IMAGE,
    });
    expect(bake.cleanup).toBeUndefined();
    expect(bake.error).toEqual({
      stage: 'PublishBakeSucceeded',
      error: BAKE_NOT_ANNOUNCED,
      cause: expect.stringContaining(`EventNotPublishedError: ${UNANNOUNCED_CAUSE}`),
    });
    // The cause alone (what `ami-bake status` prints) says the images exist and names them.
    expect(bake.error?.cause).toMatch(
      /^the images exist and were kept: us-east-1 ami-0a+1, eu-west-1 ami-0e+1, ap-southeast-2 ami-0b+1; /,
    );
  });

  it('marks PublishBakeSucceeded failed and lists no Fail state as a stage', () => {
    // Act
    const bake = summarizeBake(unannouncedInThreeRegions());

    // Assess
    expect(bake.stages.at(-1)).toMatchObject({ name: 'PublishBakeSucceeded', outcome: 'failed' });
    expect(names(bake.stages)).not.toContain('BakeSucceededUnannounced');
  });

  it('says a succeeded bake was announced, and a failed one neither way', () => {
    expect(summarizeBake(succeededInThreeRegions()).announced).toBe(true);
    expect(summarizeBake(failedAtCopyImages()).announced).toBeUndefined();
  });
});

describe('fetchBake', () => {
  it('describes the execution and reads every page of its history', async () => {
    // Prepare
    const { execution, events } = succeededInThreeRegions();
    const sfn = mockClient(new SFNClient({ region: 'us-east-1' }));
    sfn.on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN }).resolves(execution);
    sfn
      .on(GetExecutionHistoryCommand, { nextToken: undefined })
      .resolves({ events: events.slice(0, 10), nextToken: 'page-2' })
      .on(GetExecutionHistoryCommand, { nextToken: 'page-2' })
      .resolves({ events: events.slice(10) });

    // Act
    const fetched = await fetchBake(sfn as never, STATE_MACHINE_ARN, BAKE_ID);

    // Assess
    expect(fetched?.events).toHaveLength(events.length);
    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, {
      executionArn: EXECUTION_ARN,
      includeExecutionData: true,
    });
  });

  it('returns undefined for a bake id with no execution', async () => {
    // Prepare
    const sfn = mockClient(new SFNClient({ region: 'us-east-1' }));
    sfn.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist'));

    // Act
    const fetched = await fetchBake(sfn as never, STATE_MACHINE_ARN, BAKE_ID);

    // Assess
    expect(fetched).toBeUndefined();
    expect(sfn).not.toHaveReceivedCommand(GetExecutionHistoryCommand);
  });

  it('lets other AWS errors through', async () => {
    // Prepare
    const sfn = mockClient(new SFNClient({ region: 'us-east-1' }));
    sfn.on(DescribeExecutionCommand).rejects(awsError('AccessDeniedException'));

    // Act
    const fetching = fetchBake(sfn as never, STATE_MACHINE_ARN, BAKE_ID);

    // Assess
    await expect(fetching).rejects.toThrow('AccessDeniedException');
  });
});

describe('summarizeBake, for a request with several architectures', () => {
  it('lists each architecture with the bake id of its own execution', () => {
    // Prepare
    const architectures = [
      { architecture: 'x86_64', bakeId: `${BAKE_ID}-x86_64` },
      { architecture: 'arm64', bakeId: `${BAKE_ID}-arm64` },
    ];
    const at = (second: number) => new Date(Date.UTC(2026, 10, 26, 5, 0, second));
    const fetched: FetchedBake = {
      execution: {
        executionArn: EXECUTION_ARN,
        stateMachineArn: STATE_MACHINE_ARN,
        name: BAKE_ID,
        status: 'RUNNING',
        startDate: at(0),
      },
      events: [
        {
          id: 1,
          type: 'TaskStateEntered' as const,
          timestamp: at(0),
          stateEnteredEventDetails: { name: 'ResolveRecipe' },
        },
        {
          id: 2,
          type: 'TaskStateExited' as const,
          timestamp: at(1),
          stateExitedEventDetails: {
            name: 'ResolveRecipe',
            output: JSON.stringify({ context: { architectures } }),
          },
        },
      ],
    };

    // Act
    const bake = summarizeBake(fetched);

    // Assess
    expect(bake.architectures).toEqual(architectures);
  });
});
