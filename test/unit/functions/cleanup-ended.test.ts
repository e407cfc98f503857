import {
  CancelSpotInstanceRequestsCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { cleanupEnded, type ExecutionEnded } from '../../../functions/cleanup-ended/core.js';
import type { FetchedBake } from '../../../lib/bakes/status.js';
import {
  abortedAtWaitForImage,
  BAKE_ID,
  CANCEL_CAUSE,
  EXECUTION_ARN,
  STATE_MACHINE_ARN,
  webRecipe,
} from '../bakes/fixtures.js';
import { awsError, NOW, now, regionalEc2 } from './fixtures.js';

/**
 * The bake of recipe `web` (built in us-east-1, copied to eu-west-1 and ap-southeast-2) left a
 * builder and its source image in us-east-1 when its execution ended without running Cleanup.
 */
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const BUILDER = 'i-0123456789abcdef0';
const IMAGE = 'ami-0aaaaaaaaaaaaaaa1';
const INPUT = JSON.stringify({ bakeId: BAKE_ID, recipe: webRecipe });

const sfn = new SFNClient({ region: 'us-east-1' });
const sfnMock = mockClient(sfn);
const events = new EventBridgeClient({ region: 'us-east-1' });
const eventsMock = mockClient(events);
let ec2: ReturnType<typeof regionalEc2>;

/** What Step Functions puts on the default bus for the bake's execution. */
function ended(overrides: Partial<ExecutionEnded> = {}): ExecutionEnded {
  return {
    executionArn: EXECUTION_ARN,
    stateMachineArn: STATE_MACHINE_ARN,
    name: BAKE_ID,
    status: 'ABORTED',
    input: INPUT,
    error: null,
    cause: null,
    ...overrides,
  };
}

/** The execution and its history, stopped at WaitForImage (by hand unless `error` says otherwise). */
function history(status: string, error?: string, cause?: string): FetchedBake {
  const fetched = abortedAtWaitForImage();
  return { ...fetched, execution: { ...fetched.execution, status: status as never, error, cause } };
}

function deps() {
  return {
    buildRegion: 'us-east-1',
    cleanup: { ec2: ec2.ec2 },
    sfn,
    events,
    busName: 'ami-bake-test',
    now,
  };
}

function publishedDetails(): Record<string, unknown>[] {
  return eventsMock
    .commandCalls(PutEventsCommand)
    .flatMap((c) => c.args[0].input.Entries ?? [])
    .map((e) => ({ detailType: e.DetailType, ...JSON.parse(e.Detail ?? '{}') }));
}

const ec2Calls = () => REGIONS.flatMap((r) => ec2.mock(r).calls());

beforeEach(() => {
  sfnMock.reset();
  eventsMock.reset();
  eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
  ec2 = regionalEc2(REGIONS);
  for (const region of REGIONS) {
    const m = ec2.mock(region);
    m.onAnyCommand().resolves({});
    m.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    m.on(DescribeImagesCommand).resolves({ Images: [] });
  }
  let builderAlive = true;
  const home = ec2.mock('us-east-1');
  home.on(DescribeInstancesCommand).callsFake(async () => ({
    Reservations: builderAlive ? [{ Instances: [{ InstanceId: BUILDER }] }] : [],
  }));
  home.on(TerminateInstancesCommand).callsFake(async () => {
    builderAlive = false;
    return {};
  });
  home.on(DescribeImagesCommand).resolves({ Images: [{ ImageId: IMAGE, BlockDeviceMappings: [] }] });
});

function givenHistory(fetched: FetchedBake) {
  sfnMock.on(DescribeExecutionCommand).resolves(fetched.execution);
  sfnMock.on(GetExecutionHistoryCommand).resolves({ events: fetched.events });
}

describe('cleanupEnded, for an execution stopped by hand (console or StopExecution)', () => {
  it("cancels a Spot bake's requests, by tag, before terminating its builder (builder.spot in the recipe)", async () => {
    // Prepare: the recipe ResolveRecipe loaded asks for Spot.
    const fetched = history('ABORTED');
    for (const e of fetched.events) {
      const d = e.stateExitedEventDetails;
      if (d?.name !== 'ResolveRecipe' || !d.output) continue;
      const output = JSON.parse(d.output);
      d.output = JSON.stringify({
        ...output,
        recipe: { ...output.recipe, builder: { ...output.recipe.builder, spot: {} } },
      });
    }
    givenHistory(fetched);
    const home = ec2.mock('us-east-1');
    home.on(DescribeSpotInstanceRequestsCommand).resolves({
      SpotInstanceRequests: [{ SpotInstanceRequestId: 'sir-0000000c' }],
    });

    // Act
    await cleanupEnded(ended({ input: JSON.stringify({ bakeId: BAKE_ID, recipeName: 'web' }) }), deps());

    // Assess
    const order = home.calls().map((c) => (c.args[0] as object).constructor.name);
    expect(home).toHaveReceivedCommandWith(CancelSpotInstanceRequestsCommand, {
      SpotInstanceRequestIds: ['sir-0000000c'],
    });
    expect(order.indexOf('CancelSpotInstanceRequestsCommand')).toBeLessThan(
      order.indexOf('TerminateInstancesCommand'),
    );
  });

  it('makes no Spot call for a recipe without builder.spot', async () => {
    // Prepare
    givenHistory(history('ABORTED'));

    // Act
    await cleanupEnded(ended(), deps());

    // Assess
    for (const region of REGIONS)
      expect(ec2.mock(region), region).not.toHaveReceivedCommand(DescribeSpotInstanceRequestsCommand);
  });

  it('removes what the bake created and publishes Bake Failed saying it was aborted, where, and what was removed', async () => {
    // Prepare
    givenHistory(history('ABORTED'));

    // Act
    const result = await cleanupEnded(ended(), deps());

    // Assess
    expect(result).toMatchObject({ bakeId: BAKE_ID, status: 'ABORTED', eventPublished: true });
    expect(result.cleanup).toMatchObject({
      terminatedInstances: [{ region: 'us-east-1', instanceId: BUILDER }],
      deregisteredImages: [{ region: 'us-east-1', imageId: IMAGE }],
      problems: [],
    });
    expect(publishedDetails()).toEqual([
      {
        detailType: 'Bake Failed',
        bakeId: BAKE_ID,
        recipe: { name: 'web', hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
        stage: 'WaitForImage',
        error: 'ExecutionAborted',
        cause: expect.stringContaining('stopped (ABORTED) at WaitForImage'),
        cleanup: result.cleanup,
        finishedAt: NOW.toISOString(),
      },
    ]);
  });

  it('looks for leftovers in the build region and every target region of the recipe', async () => {
    // Prepare
    givenHistory(history('ABORTED'));

    // Act
    await cleanupEnded(ended(), deps());

    // Assess
    for (const region of REGIONS)
      expect(ec2.mock(region), region).toHaveReceivedCommand(DescribeImagesCommand);
  });

  it('reads the input from DescribeExecution when the event left it out (too large for EventBridge)', async () => {
    // Prepare
    givenHistory(history('ABORTED'));

    // Act
    await cleanupEnded(ended({ input: null }), deps());

    // Assess
    expect(ec2.mock('ap-southeast-2')).toHaveReceivedCommand(DescribeImagesCommand);
    expect(sfnMock).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION_ARN });
  });

  it('finds the target regions in the recipe ResolveRecipe loaded when the input names the recipe only', async () => {
    // Prepare: a cancelled bake (no event to publish), started with a recipe name as executions are.
    givenHistory(history('ABORTED', 'BakeCancelled'));
    const input = JSON.stringify({ bakeId: BAKE_ID, recipeName: 'web' });

    // Act
    await cleanupEnded(ended({ input, error: 'BakeCancelled' }), deps());

    // Assess
    for (const region of REGIONS)
      expect(ec2.mock(region), region).toHaveReceivedCommand(DescribeImagesCommand);
  });

  it('passes the error and cause given to StopExecution on in the cause', async () => {
    // Prepare
    givenHistory(history('ABORTED', 'Operator', 'wrong base image'));

    // Act
    await cleanupEnded(ended({ error: 'Operator', cause: 'wrong base image' }), deps());

    // Assess
    expect(publishedDetails()[0]?.cause).toContain('(Operator: wrong base image)');
  });
});

describe('cleanupEnded, for an execution that ran out of time', () => {
  it('removes what the bake created and publishes Bake Failed saying it timed out', async () => {
    // Prepare
    givenHistory(history('TIMED_OUT'));

    // Act
    const result = await cleanupEnded(ended({ status: 'TIMED_OUT' }), deps());

    // Assess
    expect(result.cleanup?.deregisteredImages).toEqual([{ region: 'us-east-1', imageId: IMAGE }]);
    expect(publishedDetails()).toEqual([
      expect.objectContaining({
        stage: 'WaitForImage',
        error: 'ExecutionTimedOut',
        cause: expect.stringContaining('timed out'),
      }),
    ]);
  });

  it('still publishes, with what remains, when the cleanup cannot remove everything', async () => {
    // Prepare
    givenHistory(history('TIMED_OUT'));
    ec2
      .mock('us-east-1')
      .on(DeregisterImageCommand)
      .rejects(awsError('UnauthorizedOperation', 'not allowed'));

    // Act
    const result = await cleanupEnded(ended({ status: 'TIMED_OUT' }), deps());

    // Assess
    expect(result.eventPublished).toBe(true);
    expect(result.cleanup?.problems.join()).toContain('UnauthorizedOperation');
    expect(publishedDetails()[0]).toMatchObject({
      cleanup: { problems: [expect.stringContaining('not allowed')] },
    });
  });

  it('reports an event that could not be published instead of failing (a retry would find nothing to report)', async () => {
    // Prepare
    givenHistory(history('TIMED_OUT'));
    eventsMock.on(PutEventsCommand).rejects(awsError('AccessDeniedException'));

    // Act
    const result = await cleanupEnded(ended({ status: 'TIMED_OUT' }), deps());

    // Assess
    expect(result).toMatchObject({
      eventPublished: false,
      cleanup: { terminatedInstances: [expect.anything()] },
    });
  });
});

describe('cleanupEnded, when someone else already said what happened', () => {
  it('a failed bake: cleans up again (harmless) and publishes nothing, its Bake Failed was sent', async () => {
    // Act
    const result = await cleanupEnded(ended({ status: 'FAILED', error: 'BakeFailed' }), deps());

    // Assess
    expect(result).toMatchObject({ status: 'FAILED', eventPublished: false });
    expect(result.cleanup?.terminatedInstances).toEqual([{ region: 'us-east-1', instanceId: BUILDER }]);
    expect(eventsMock).not.toHaveReceivedCommand(PutEventsCommand);
    expect(sfnMock).not.toHaveReceivedAnyCommand();
  });

  it('a bake cancelled through the API or CLI: cleans up and leaves the one Bake Failed to the cancel', async () => {
    // Prepare
    givenHistory(history('ABORTED', 'BakeCancelled', CANCEL_CAUSE));

    // Act
    const result = await cleanupEnded(ended({ error: 'BakeCancelled', cause: CANCEL_CAUSE }), deps());

    // Assess
    expect(result.eventPublished).toBe(false);
    expect(eventsMock).not.toHaveReceivedCommand(PutEventsCommand);
  });
});

describe('cleanupEnded, for a bake whose images were delivered but not announced', () => {
  it('removes nothing and publishes nothing: the images are finished and shared', async () => {
    // Act
    const result = await cleanupEnded(
      ended({ status: 'FAILED', error: 'BakeSucceededNotAnnounced' }),
      deps(),
    );

    // Assess
    expect(result).toMatchObject({ eventPublished: false, skipped: expect.stringContaining('kept') });
    expect(result.cleanup).toBeUndefined();
    expect(ec2Calls()).toEqual([]);
    expect(eventsMock).not.toHaveReceivedCommand(PutEventsCommand);
  });
});

describe('cleanupEnded, for a child of a request with several architectures', () => {
  it('removes what the child created but publishes nothing: its request publishes Bake Failed', async () => {
    // Prepare: stopped because a sibling failed; its input names the request it belongs to.
    givenHistory(history('ABORTED'));
    const input = JSON.stringify({
      bakeId: BAKE_ID,
      recipe: webRecipe,
      architecture: 'arm64',
      group: { bakeId: 'bake-0001' },
    });

    // Act
    const result = await cleanupEnded(ended({ input }), deps());

    // Assess
    expect(result).toMatchObject({ status: 'ABORTED', eventPublished: false });
    expect(result.cleanup?.terminatedInstances).toEqual([{ region: 'us-east-1', instanceId: BUILDER }]);
    expect(publishedDetails()).toEqual([]);
  });
});
