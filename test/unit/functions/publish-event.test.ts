import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publishEvent, publishInputSchema, stageDurations } from '../../../functions/publish-event/core.js';
import { incompleteMessage } from '../../../lib/cleanup/report.js';
import { EventNotPublishedError, EventThrottledError } from '../../../lib/errors.js';
import { bakeEventMetrics } from '../../../lib/metrics.js';
import { STAGES, STATES } from '../../../lib/workflow/states.js';
import { captureEmf } from '../emf.js';
import { BAKE_ID, BUILD_REGION, context, now } from './fixtures.js';

const eventsMock = mockClient(EventBridgeClient);
const deps = {
  events: new EventBridgeClient({ region: BUILD_REGION }),
  busName: 'ami-bake',
  now,
  sleep: async () => {},
};

type PublishInput = Parameters<typeof publishEvent>[0];

/** Publishes through the input schema, as the handler does, and returns the detail that was sent. */
async function published(input: unknown): Promise<Record<string, unknown>> {
  await publishEvent(publishInputSchema.parse(input) as PublishInput, deps);
  const entry = eventsMock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
  return JSON.parse(entry?.Detail ?? 'null') as Record<string, unknown>;
}

const emptyCleanup = { terminatedInstances: [], deregisteredImages: [], deletedSnapshots: [], problems: [] };

/** The state a bake carries into PublishBakeSucceeded, each stage done a few seconds after the last. */
function succeededBake() {
  return {
    bakeId: BAKE_ID,
    recipe: { name: 'web' },
    context: context({ startedAt: '2026-11-26T04:40:00.000Z', at: '2026-11-26T04:40:02.000Z' }),
    builder: { instanceId: 'i-0builder00000001', region: BUILD_REGION, at: '2026-11-26T04:40:05.000Z' },
    bootstrap: { outcome: 'success', exitCode: 0, at: '2026-11-26T04:45:05.000Z' },
    stopped: { at: '2026-11-26T04:45:06.500Z' },
    image: { imageId: 'ami-0source000000001', region: BUILD_REGION, at: '2026-11-26T04:45:07.000Z' },
    imageReady: { imageId: 'ami-0source000000001', snapshotIds: ['snap-1'], at: '2026-11-26T04:46:07.000Z' },
    copies: [
      {
        region: 'eu-west-1',
        imageId: 'ami-0copyeu00000001',
        snapshotIds: ['snap-2'],
        at: '2026-11-26T04:47:00.000Z',
      },
      {
        region: 'ap-southeast-2',
        imageId: 'ami-0copyap00000001',
        snapshotIds: ['snap-3'],
        at: '2026-11-26T04:47:30.000Z',
      },
    ],
    finalized: {
      images: { [BUILD_REGION]: { imageId: 'ami-0source000000001', snapshotIds: ['snap-1'] } },
      at: '2026-11-26T04:47:40.000Z',
    },
    terminated: { at: '2026-11-26T04:47:41.000Z' },
    // The recipe distributes nothing: DistributeImage made no call and reports nothing.
    distributed: { parameters: [], launchTemplates: [], at: '2026-11-26T04:47:41.500Z' },
  };
}

beforeEach(() => {
  eventsMock.reset();
  eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
});

describe('publishEvent: Bake Started', () => {
  it('puts one ami-bake event on the bus with the base image and the target regions', async () => {
    // Act
    const detail = await published({
      detailType: 'Bake Started',
      bake: { bakeId: BAKE_ID, recipe: { name: 'web' }, context: context() },
    });

    // Assess
    expect(eventsMock).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        expect.objectContaining({ Source: 'ami-bake', DetailType: 'Bake Started', EventBusName: 'ami-bake' }),
      ],
    });
    expect(detail).toMatchObject({
      bakeId: BAKE_ID,
      recipe: { name: 'web', hash: 'a'.repeat(64) },
      base: { imageId: 'ami-0123456789abcdef0' },
      buildRegion: BUILD_REGION,
      targetRegions: ['eu-west-1', 'ap-southeast-2'],
      startedAt: '2026-11-26T04:40:00.000Z',
    });
  });

  it('refuses to publish a start without a resolved context', async () => {
    // Act
    const result = publishEvent({ detailType: 'Bake Started', bake: { bakeId: BAKE_ID } }, deps);

    // Assess
    await expect(result).rejects.toBeInstanceOf(EventNotPublishedError);
    expect(eventsMock).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it('throws EventNotPublishedError with the error code when EventBridge rejects the entry for good', async () => {
    // Prepare
    eventsMock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'not JSON' }],
    });

    // Act
    const result = publishEvent(
      { detailType: 'Bake Started', bake: { bakeId: BAKE_ID, context: context() } },
      deps,
    );

    // Assess
    await expect(result).rejects.toBeInstanceOf(EventNotPublishedError);
    await expect(result).rejects.toThrow(/MalformedDetail not JSON/);
    expect(eventsMock).toHaveReceivedCommandTimes(PutEventsCommand, 1);
  });

  it('sends a throttled entry again and throws the retryable EventThrottledError if it stays throttled', async () => {
    // Prepare
    eventsMock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });

    // Act
    const result = publishEvent(
      { detailType: 'Bake Started', bake: { bakeId: BAKE_ID, context: context() } },
      deps,
    );

    // Assess
    await expect(result).rejects.toBeInstanceOf(EventThrottledError);
    await expect(result).rejects.toThrow(/InternalFailure try again/);
    expect(eventsMock).toHaveReceivedCommandTimes(PutEventsCommand, 3);
  });
});

describe('publishEvent: Bake Succeeded', () => {
  it('lists the regional images and the seconds each stage took', async () => {
    // Act
    const detail = await published({ detailType: 'Bake Succeeded', bake: succeededBake() });

    // Assess
    expect(detail).toMatchObject({
      images: { [BUILD_REGION]: { imageId: 'ami-0source000000001', snapshotIds: ['snap-1'] } },
      stages: {
        ResolveRecipe: 2,
        LaunchBuilder: 3,
        WaitForBuilder: 300,
        StopBuilder: 1.5,
        CreateImage: 0.5,
        WaitForImage: 60,
        CopyImages: 83,
        FinalizeImage: 10,
        TerminateBuilder: 1,
      },
      durationSeconds: 462.12,
      finishedAt: '2026-11-26T04:47:42.123Z',
    });
  });

  it('reports each passed test instance and its seconds from launch to done, and TestImage as a stage', async () => {
    // Prepare
    const tests = [
      {
        instanceType: 'm5.large',
        instanceId: 'i-0test000000000001',
        outcome: 'passed',
        exitCode: 0,
        logTail: 'nginx is active',
        secondsToDone: 38.4,
        at: '2026-11-26T04:46:47.000Z',
      },
    ];

    // Act
    const detail = await published({ detailType: 'Bake Succeeded', bake: { ...succeededBake(), tests } });

    // Assess
    const { at: _, ...reported } = tests[0] as (typeof tests)[number];
    expect(detail.tests).toEqual([reported]);
    expect(detail.stages).toMatchObject({ WaitForImage: 60, TestImage: 40, CopyImages: 43 });
  });

  it('reports no tests and no TestImage stage for a recipe without `test`', async () => {
    // Act
    const detail = await published({ detailType: 'Bake Succeeded', bake: succeededBake() });

    // Assess
    expect(detail.tests).toBeUndefined();
    expect(Object.keys(detail.stages as object)).not.toContain('TestImage');
  });

  it("reports the builder's type and market, and the capacity refusals that led to it", async () => {
    // Prepare
    const refused = {
      instanceType: 'm7i.large',
      market: 'on-demand' as const,
      error: 'InsufficientInstanceCapacity',
      message:
        'We currently do not have sufficient m7i.large capacity in the Availability Zone you requested',
    };
    const bake = succeededBake();
    const fallback = {
      ...bake,
      builder: { ...bake.builder, instanceType: 'm6i.large', market: 'on-demand', attempts: [refused] },
    };
    const first = { ...bake, builder: { ...bake.builder, instanceType: 't3.small', market: 'on-demand' } };

    // Act
    const afterFallback = await published({ detailType: 'Bake Succeeded', bake: fallback });
    eventsMock.resetHistory();
    const firstTry = await published({ detailType: 'Bake Succeeded', bake: first });
    eventsMock.resetHistory();
    const older = await published({ detailType: 'Bake Succeeded', bake });

    // Assess
    expect(afterFallback.builder).toEqual({
      instanceType: 'm6i.large',
      market: 'on-demand',
      attempts: [refused],
    });
    expect(firstTry.builder).toEqual({ instanceType: 't3.small', market: 'on-demand' });
    expect(older.builder).toBeUndefined();
  });

  it('validates the detail against its published schema and sends nothing when it does not match', async () => {
    // Prepare: a bake that never reached FinalizeImage has no images to announce.
    const { finalized: _finalized, ...unfinished } = succeededBake();

    // Act
    const result = publishEvent(
      publishInputSchema.parse({ detailType: 'Bake Succeeded', bake: unfinished }) as PublishInput,
      deps,
    );

    // Assess
    await expect(result).rejects.toThrow(/images/);
    expect(eventsMock).not.toHaveReceivedCommand(PutEventsCommand);
  });
});

describe('publishEvent: Bake Failed', () => {
  it('names the stage whose Catch fired and unwraps the Lambda error message from the JSON cause', async () => {
    // Prepare
    const cause = JSON.stringify({
      errorType: 'BootstrapFailedError',
      errorMessage: 'bootstrap exited with code 3',
      trace: ['at x'],
    });

    // Act
    const detail = await published({
      detailType: 'Bake Failed',
      bake: {
        bakeId: BAKE_ID,
        recipe: { name: 'web' },
        context: context(),
        failure: { WaitForBuilder: { Error: 'BootstrapFailedError', Cause: cause } },
        cleanup: {
          ...emptyCleanup,
          terminatedInstances: [{ region: BUILD_REGION, instanceId: 'i-0builder00000001' }],
        },
      },
    });

    // Assess
    expect(detail).toMatchObject({
      bakeId: BAKE_ID,
      recipe: { name: 'web' },
      stage: 'WaitForBuilder',
      error: 'BootstrapFailedError',
      cause: 'bootstrap exited with code 3',
      cleanup: { terminatedInstances: [{ region: BUILD_REGION, instanceId: 'i-0builder00000001' }] },
    });
  });

  it.each([
    [
      'WaitForCopy (the wait)',
      'ImageFailedError',
      'image ami-0copyap00000001 in ap-southeast-2 is failed: snapshot copy failed',
    ],
    [
      'CopyImage (the Lambda)',
      'InvalidParameterValue',
      JSON.stringify({
        errorType: 'InvalidParameterValue',
        errorMessage: 'copy to ap-southeast-2: KMS key not usable',
      }),
    ],
  ])('names the region of a copy that failed in %s', async (_where, error, cause) => {
    // Act
    const detail = await published({
      detailType: 'Bake Failed',
      bake: { bakeId: BAKE_ID, context: context(), failure: { CopyImages: { Error: error, Cause: cause } } },
    });

    // Assess
    expect(detail).toMatchObject({ stage: 'CopyImages', error, region: 'ap-southeast-2' });
    expect(detail.cause).toContain('ap-southeast-2');
  });

  it('names the region FinalizeImage failed in, as it works in every target region', async () => {
    // Prepare
    const Cause = 'launch permission in eu-west-1: denied';
    const failure = { FinalizeImage: { Error: 'UnauthorizedOperation', Cause } };

    // Act
    const detail = await published({
      detailType: 'Bake Failed',
      bake: { bakeId: BAKE_ID, context: context(), failure },
    });

    // Assess
    expect(detail).toMatchObject({ stage: 'FinalizeImage', region: 'eu-west-1' });
  });

  it('names the build region for a stage that runs there, and no region for a copy whose cause names none', async () => {
    // Act: a bootstrap's log tail may mention another region; the builder still ran at home.
    const bootstrap = await published({
      detailType: 'Bake Failed',
      bake: {
        bakeId: BAKE_ID,
        context: context(),
        failure: {
          WaitForBuilder: {
            Error: 'BootstrapFailedError',
            Cause: 'bootstrap exited with code 7; log tail: curl: s3.eu-west-1.amazonaws.com timed out',
          },
        },
      },
    });
    eventsMock.resetHistory();
    const timeout = await published({
      detailType: 'Bake Failed',
      bake: { bakeId: BAKE_ID, context: context(), failure: { CopyImages: { Error: 'States.Timeout' } } },
    });

    // Assess
    expect(bootstrap.region).toBe(BUILD_REGION);
    expect(timeout).not.toHaveProperty('region');
  });

  it('keeps a cause that is not Lambda JSON as it is', async () => {
    // Act
    const detail = await published({
      detailType: 'Bake Failed',
      bake: {
        bakeId: BAKE_ID,
        failure: { CopyImages: { Error: 'States.Timeout', Cause: 'the copy took too long' } },
      },
    });

    // Assess
    expect(detail).toMatchObject({
      stage: 'CopyImages',
      error: 'States.Timeout',
      cause: 'the copy took too long',
    });
  });

  it('publishes even when the recipe itself was invalid, with the recipe name it can find', async () => {
    // Act
    const detail = await published({
      detailType: 'Bake Failed',
      bake: {
        bakeId: BAKE_ID,
        recipe: { name: 'web', base: 'garbage' },
        failure: { ResolveRecipe: { Error: 'StateInputInvalidError' } },
      },
    });

    // Assess
    expect(detail).toMatchObject({
      recipe: { name: 'web' },
      stage: 'ResolveRecipe',
      error: 'StateInputInvalidError',
      cause: '',
    });
  });

  it('reports a cleanup that itself failed as a cleanup problem', async () => {
    // Act
    const detail = await published({
      detailType: 'Bake Failed',
      bake: {
        bakeId: BAKE_ID,
        failure: { CreateImage: { Error: 'InternalError' } },
        cleanupFailure: {
          Error: 'CleanupIncompleteError',
          Cause: JSON.stringify({ errorMessage: 'eu-west-1: UnauthorizedOperation' }),
        },
      },
    });

    // Assess
    expect(detail.cleanup).toEqual({
      ...emptyCleanup,
      problems: ['cleanup failed: CleanupIncompleteError: eu-west-1: UnauthorizedOperation'],
    });
  });
});

describe('publishEvent: Bake Failed after an incomplete cleanup', () => {
  it('lists what the last cleanup attempt removed, from the report its CleanupIncompleteError carries', async () => {
    // Prepare
    const report = {
      terminatedInstances: [{ region: BUILD_REGION, instanceId: 'i-0builder00000001' }],
      deregisteredImages: [{ region: BUILD_REGION, imageId: 'ami-0source000000001' }],
      deletedSnapshots: [],
      problems: ['eu-west-1: UnauthorizedOperation: not allowed'],
    };

    // Act
    const detail = await published({
      detailType: 'Bake Failed',
      bake: {
        bakeId: BAKE_ID,
        failure: { CreateImage: { Error: 'InternalError' } },
        cleanupFailure: {
          Error: 'CleanupIncompleteError',
          Cause: JSON.stringify({
            errorType: 'CleanupIncompleteError',
            errorMessage: incompleteMessage(report),
          }),
        },
      },
    });

    // Assess
    expect(detail.cleanup).toEqual({
      ...report,
      problems: ['cleanup incomplete: eu-west-1: UnauthorizedOperation: not allowed'],
    });
  });
});

describe('stageDurations', () => {
  it('skips stages that never finished and measures the next one from the last mark', () => {
    // Prepare
    const bake = publishInputSchema.parse({
      detailType: 'Bake Succeeded',
      bake: {
        bakeId: BAKE_ID,
        context: context({ startedAt: '2026-11-26T04:40:00.000Z', at: '2026-11-26T04:40:01.000Z' }),
        image: { at: '2026-11-26T04:40:11.000Z' },
      },
    }).bake;

    // Act
    const stages = stageDurations(bake);

    // Assess
    expect(stages).toEqual({ ResolveRecipe: 1, CreateImage: 10 });
  });

  it('counts the copy stage up to the last copy to finish', () => {
    // Prepare
    const { bake } = publishInputSchema.parse({ detailType: 'Bake Succeeded', bake: succeededBake() });

    // Act
    const stages = stageDurations(bake);

    // Assess
    expect(stages.CopyImages).toBe(83);
  });

  it('says in Bake Succeeded what DistributeImage pointed at the images, and nothing when it distributed nothing', async () => {
    // Prepare
    const parameter = {
      region: BUILD_REGION,
      architecture: 'x86_64',
      name: '/ami-bake/web/latest',
      imageId: 'ami-0source000000001',
      previous: 'ami-0old00000000001',
    };
    const distributed = { parameters: [parameter], launchTemplates: [], at: '2026-11-26T04:47:41.500Z' };

    // Act
    const detailOf = async (bake: unknown) => {
      eventsMock.resetHistory();
      await publishEvent({ detailType: 'Bake Succeeded', bake } as never, deps);
      const entry = eventsMock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
      return JSON.parse(entry?.Detail ?? '{}') as Record<string, unknown>;
    };
    const published = await detailOf({ ...succeededBake(), distributed });
    const quiet = await detailOf(succeededBake());

    // Assess
    expect(published.distributed).toEqual({ parameters: [parameter], launchTemplates: [] });
    expect(quiet).not.toHaveProperty('distributed');
  });

  it('names every stage of a successful bake, in the order it ran', () => {
    // Prepare
    const { bake } = publishInputSchema.parse({ detailType: 'Bake Succeeded', bake: succeededBake() });

    // Act
    const stages = stageDurations(bake);

    // Assess: the publish states record no time (test/config/workflow-states.test.ts checks the order),
    // and TestImage runs only for a recipe with `test`.
    expect(Object.keys(stages)).toEqual(
      STAGES.filter((s) => STATES[s].kind !== 'publish' && s !== 'TestImage'),
    );
  });

  it('counts a bake without copy targets as copying for no time', () => {
    // Prepare
    const { bake } = publishInputSchema.parse({
      detailType: 'Bake Succeeded',
      bake: { ...succeededBake(), copies: [] },
    });

    // Act
    const stages = stageDurations(bake);

    // Assess
    expect(stages.CopyImages).toBe(0);
    expect(stages.FinalizeImage).toBe(93);
  });
});

describe('publishEvent: the timeline and the metrics', () => {
  let emf: ReturnType<typeof captureEmf>;
  beforeEach(() => {
    emf = captureEmf();
  });
  afterEach(() => emf.stop());

  it('puts the stages on one time axis in Bake Succeeded, the copies side by side', async () => {
    const detail = await published({ detailType: 'Bake Succeeded', bake: succeededBake() });
    const timeline = detail.timeline as {
      totalSeconds: number;
      bars: { stage: string; lane: string; startSeconds: number }[];
    };
    const copies = timeline.bars.filter((b) => b.stage === 'CopyImages');
    expect(copies.map((b) => [b.lane, b.startSeconds])).toEqual([
      ['eu-west-1', 367],
      ['ap-southeast-2', 367],
    ]);
    expect(timeline.bars[0]).toMatchObject({ stage: 'ResolveRecipe', startSeconds: 0 });
    expect(timeline.totalSeconds).toBe(461.5);
  });

  it('ends the timeline of a failed bake with the failed stage', async () => {
    const { copies: _, finalized: __, terminated: ___, distributed: ____, ...bake } = succeededBake();
    const detail = await published({
      detailType: 'Bake Failed',
      bake: {
        ...bake,
        failure: { CopyImages: { Error: 'ImageFailedError', Cause: 'copy to eu-west-1 failed' } },
        cleanup: emptyCleanup,
      },
    });
    const bars = (detail.timeline as { bars: { stage: string; outcome: string }[] }).bars;
    expect(bars.at(-1)).toMatchObject({ stage: 'CopyImages', outcome: 'failed' });
  });

  it('emits what a succeeded bake did and cost, as EMF', async () => {
    await publishEvent(
      publishInputSchema.parse({ detailType: 'Bake Succeeded', bake: succeededBake() }) as PublishInput,
      {
        ...deps,
        measured: bakeEventMetrics,
      },
    );
    const names = emf.summary().map((m) => `${m.name}[${m.dims.join(',')}]`);
    expect(names).toEqual(
      expect.arrayContaining([
        'BakesSucceeded[]',
        'BakesSucceeded[recipe]',
        'BakeDuration[]',
        'StageDuration[stage]',
        'StageDuration[recipe,stage]',
        'BakeCost[]',
        'BakeStateTransitions[recipe]',
        'BakeLambdaGbSeconds[recipe]',
        'BuilderInstanceSeconds[recipe]',
      ]),
    );
    // LaunchBuilder at 04:40:05, TerminateBuilder at 04:47:41.
    expect(emf.summary().find((m) => m.name === 'BuilderInstanceSeconds')?.value).toBe(456);
  });

  it('emits a failure by its stage, and counts an event it could not publish', async () => {
    eventsMock.reset();
    eventsMock
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const notPublished: string[] = [];
    await expect(
      publishEvent(
        publishInputSchema.parse({
          detailType: 'Bake Failed',
          bake: {
            bakeId: BAKE_ID,
            recipe: { name: 'web' },
            failure: { LaunchBuilder: { Error: 'X', Cause: 'y' } },
            cleanup: emptyCleanup,
          },
        }) as PublishInput,
        { ...deps, measured: bakeEventMetrics, notPublished: (t) => notPublished.push(t) },
      ),
    ).rejects.toThrow();
    expect(notPublished).toEqual(['Bake Failed']);
    expect(emf.summary()).toEqual([]);

    eventsMock.reset();
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-2' }] });
    await publishEvent(
      publishInputSchema.parse({
        detailType: 'Bake Failed',
        bake: {
          bakeId: BAKE_ID,
          recipe: { name: 'web' },
          failure: { LaunchBuilder: { Error: 'X', Cause: 'y' } },
          cleanup: emptyCleanup,
        },
      }) as PublishInput,
      { ...deps, measured: bakeEventMetrics },
    );
    expect(emf.summary()).toContainEqual({
      name: 'BakesFailed',
      dims: ['recipe', 'stage'],
      value: 1,
      values: { recipe: 'web', stage: 'LaunchBuilder' },
    });
  });
});
