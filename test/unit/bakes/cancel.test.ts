import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it, vi } from 'vitest';
import { type CancelDeps, cancelBake } from '../../../lib/bakes/cancel.js';
import type { FetchedBake } from '../../../lib/bakes/status.js';
import { BakeNotRunningError, CleanupIncompleteError } from '../../../lib/errors.js';
import { logger } from '../../../lib/logger.js';
import { NOW } from '../functions/fixtures.js';
import {
  abortedAtWaitForImage,
  BAKE_ID,
  runningAtWaitForBuilder,
  runningInCleanup,
  STATE_MACHINE_ARN,
} from './fixtures.js';

vi.spyOn(logger, 'error').mockImplementation(() => undefined);

const EMPTY = { terminatedInstances: [], deregisteredImages: [], deletedSnapshots: [], problems: [] };

function deps(fetched: FetchedBake, overrides: Partial<CancelDeps> = {}) {
  const client = new SFNClient({ region: 'us-east-1' });
  const sfn = mockClient(client);
  sfn.on(DescribeExecutionCommand).resolves(fetched.execution);
  sfn.on(GetExecutionHistoryCommand).resolves({ events: fetched.events });
  sfn.on(StopExecutionCommand).resolves({ stopDate: NOW });
  const published: unknown[] = [];
  const d: CancelDeps = {
    sfn: client,
    stateMachineArn: STATE_MACHINE_ARN,
    buildRegion: 'us-east-1',
    cleanup: vi.fn(async () => EMPTY),
    publishFailed: async (detail) => {
      published.push(detail);
    },
    now: () => NOW,
    ...overrides,
  };
  return { d, sfn, published };
}

/** A bake past its Cleanup, publishing its own Bake Failed. */
function runningInPublishBakeFailed(): FetchedBake {
  const bake = runningInCleanup();
  const last = bake.events.at(-1);
  const id = last?.id ?? 0;
  const next = (n: number, event: Omit<HistoryEvent, 'id' | 'timestamp'>): HistoryEvent => ({
    ...event,
    id: id + n,
    previousEventId: id + n - 1,
    timestamp: last?.timestamp ?? new Date(0),
  });
  bake.events.push(
    next(1, { type: 'TaskStateExited', stateExitedEventDetails: { name: 'Cleanup', output: '{}' } }),
    next(2, {
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: 'PublishBakeFailed', input: '{}' },
    }),
  );
  return bake;
}

describe('cancelBake', () => {
  it('refuses a bake already publishing its Bake Failed: the event names the real cause', async () => {
    // Prepare
    const { d, sfn } = deps(runningInPublishBakeFailed());

    // Act
    const cancelling = cancelBake({ bakeId: BAKE_ID }, d);

    // Assess
    await expect(cancelling).rejects.toThrow('already failing (stage PublishBakeFailed)');
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
  });

  it('refuses a bake already failing and cleaning up, so its own Bake Failed names the real cause', async () => {
    // Prepare
    const { d, sfn } = deps(runningInCleanup());

    // Act
    const cancelling = cancelBake({ bakeId: BAKE_ID }, d);

    // Assess
    await expect(cancelling).rejects.toThrow(BakeNotRunningError);
    await expect(cancelling).rejects.toThrow('already failing (stage Cleanup)');
    expect(sfn).not.toHaveReceivedCommand(StopExecutionCommand);
  });

  it('refuses a bake that was already aborted', async () => {
    // Prepare
    const { d } = deps(abortedAtWaitForImage());

    // Act
    const cancelling = cancelBake({ bakeId: BAKE_ID }, d);

    // Assess
    await expect(cancelling).rejects.toThrow(`bake ${BAKE_ID} already ended: ABORTED`);
  });

  it('still answers when cleanup leaves something behind, listing it as a problem in the event too', async () => {
    // Prepare
    const { d, published } = deps(runningAtWaitForBuilder(), {
      cleanup: async () => {
        throw new CleanupIncompleteError('eu-west-1: InvalidAMIID.Unavailable: copy pending');
      },
    });

    // Act
    const result = await cancelBake({ bakeId: BAKE_ID }, d);

    // Assess
    expect(result.cleanup.problems).toEqual([
      'CleanupIncompleteError: eu-west-1: InvalidAMIID.Unavailable: copy pending',
    ]);
    expect(published[0]).toMatchObject({ cleanup: { problems: result.cleanup.problems } });
  });

  it('reports eventPublished: false when the Bake Failed event cannot be sent, after stopping and cleaning up', async () => {
    // Prepare
    const { d, sfn } = deps(runningAtWaitForBuilder(), {
      publishFailed: async () => {
        throw new Error('PutEvents failed');
      },
    });

    // Act
    const result = await cancelBake({ bakeId: BAKE_ID }, d);

    // Assess
    expect(result).toMatchObject({ status: 'ABORTED', eventPublished: false });
    expect(sfn).toHaveReceivedCommand(StopExecutionCommand);
    expect(d.cleanup).toHaveBeenCalled();
  });

  it('cleans up only the build region when the execution input names no valid regions', async () => {
    // Prepare
    const fetched = runningAtWaitForBuilder();
    fetched.execution.input = JSON.stringify({
      bakeId: BAKE_ID,
      recipe: { distribution: { regions: ['mars-1', 7] } },
    });
    // An execution started before ResolveRecipe kept the recipe in the state: only the input has it.
    fetched.events = fetched.events.filter((e) => e.stateExitedEventDetails?.name !== 'ResolveRecipe');
    const { d } = deps(fetched);

    // Act
    await cancelBake({ bakeId: BAKE_ID }, d);

    // Assess
    expect(d.cleanup).toHaveBeenCalledWith({ bakeId: BAKE_ID, regions: ['us-east-1'] });
  });

  it('cleans up every region of the recipe ResolveRecipe loaded when the input names the recipe only', async () => {
    // Prepare: executions carry a recipe name; the recipe is in ResolveRecipe's output.
    const fetched = runningAtWaitForBuilder();
    fetched.execution.input = JSON.stringify({ bakeId: BAKE_ID, recipeName: 'web' });
    const { d } = deps(fetched);

    // Act
    await cancelBake({ bakeId: BAKE_ID }, d);

    // Assess
    expect(d.cleanup).toHaveBeenCalledWith({
      bakeId: BAKE_ID,
      regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
    });
  });

  it("has the cleanup cancel a Spot bake's requests before terminating (builder.spot in the recipe)", async () => {
    // Prepare: the recipe of an execution started before ResolveRecipe kept it in the input.
    const fetched = runningAtWaitForBuilder();
    fetched.execution.input = JSON.stringify({
      bakeId: BAKE_ID,
      recipe: { distribution: { regions: [] }, builder: { instanceType: 'm7i.large', spot: {} } },
    });
    fetched.events = fetched.events.filter((e) => e.stateExitedEventDetails?.name !== 'ResolveRecipe');
    const { d } = deps(fetched);

    // Act
    await cancelBake({ bakeId: BAKE_ID }, d);

    // Assess
    expect(d.cleanup).toHaveBeenCalledWith({ bakeId: BAKE_ID, regions: ['us-east-1'], spot: true });
  });
});

describe('cancelBake, for a request with several architectures', () => {
  it("stops each architecture's child execution and cleans up what every child created", async () => {
    // Prepare: ResolveRecipe listed two children.
    const fetched = runningAtWaitForBuilder();
    const architectures = [
      { architecture: 'x86_64', bakeId: `${BAKE_ID}-x86_64` },
      { architecture: 'arm64', bakeId: `${BAKE_ID}-arm64` },
    ];
    for (const e of fetched.events) {
      const exited = e.stateExitedEventDetails;
      if (exited?.name !== 'ResolveRecipe') continue;
      const output = JSON.parse(exited.output ?? '{}') as { context?: Record<string, unknown> };
      exited.output = JSON.stringify({ ...output, context: { ...output.context, architectures } });
    }
    const { d, sfn } = deps(fetched);

    // Act
    await cancelBake({ bakeId: BAKE_ID }, d);

    // Assess
    const stopped = sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input.executionArn);
    const executions = STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:');
    expect(stopped).toEqual(
      expect.arrayContaining([`${executions}:${BAKE_ID}-x86_64`, `${executions}:${BAKE_ID}-arm64`]),
    );
    expect(d.cleanup).toHaveBeenCalledWith(
      expect.objectContaining({ bakeId: BAKE_ID, members: [`${BAKE_ID}-x86_64`, `${BAKE_ID}-arm64`] }),
    );
  });
});
