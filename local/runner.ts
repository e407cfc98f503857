import { randomUUID } from 'node:crypto';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { RunOptions, StateMachineDefinition } from 'aws-local-stepfunctions';
import { setRetryClock } from '../lib/aws/retry.js';
import { causeText } from '../lib/cause.js';
import type { Architecture } from '../lib/recipe/schema.js';
import type { RetentionReport } from '../lib/retention/core.js';
import type { Overrides } from '../lib/start/request.js';
import type { ResolvedRecipe } from '../lib/state.js';
import { childFailure, describedChildFailure } from '../lib/workflow/group.js';
import { bakedImages, type ImagesState, imagesByArchitecture } from '../lib/workflow/images.js';
import {
  type BakeResults,
  descriptionOf,
  STATES,
  type StateDescription,
  type StateName,
  type StateResults,
} from '../lib/workflow/states.js';
import {
  type BehaviourLayer,
  type Profile,
  type ProfileName,
  sharedBehaviourLayer,
} from './aws-behaviour/index.js';
import { type BuilderBehaviour, playBuilder } from './builder.js';
import { lambdaContext, loadDefinition, loadHandlers, localStateMachineArn } from './definition.js';
import { emulatorVersion, ensureEmulator, startEmulator } from './emulator.js';
import { runLocalRetention } from './retention.js';
import { joinSession, type LocalSession, sessionTapId } from './session.js';
import { simulateImageFailures } from './simulate.js';
import {
  forwardRegionsOf,
  localForwarding,
  provisionLocalStack,
  provisionRecipeKeys,
  tapEvents,
} from './stack.js';
import { sharedTaskTokenServer, type TaskTokenServer } from './task-tokens.js';

export interface LocalBakeOptions {
  /** Locally, this recipe is the catalog: ResolveRecipe loads it by name, as it loads a packaged one. */
  recipe: ResolvedRecipe;
  /** Overrides in the execution input, checked by ResolveRecipe against the recipe's policy. */
  overrides?: Overrides;
  /** Build region. Default: AWS_REGION, else us-east-1. */
  region?: string;
  /** An emulator to use; default AWS_ENDPOINT_URL, else a moto server is started and stopped. */
  endpoint?: string;
  /** How the played builder ends; keyed by architecture for a group, each child its own. */
  builder?: BuilderBehaviour | Partial<Record<Architecture, BuilderBehaviour>>;
  /**
   * How the played test instances (the recipe's `test`) end: `succeed` (default: the wrapper
   * reports exit 0), `fail` (the test script exits 1) or `hang`. They are played like the builder:
   * the user data is checked to be our wrapper and `bash -n` passes on it and on the test script
   * (a syntax error fails the test, exit 2); the script itself is not run on this machine.
   */
  testInstances?: BuilderBehaviour;
  /** Regions whose copy EC2 reports as failed (simulated). */
  failCopyRegions?: string[];
  /**
   * How the AWS-behaviour layer in front of the emulator behaves (local/aws-behaviour): `instant`
   * (default) has today's timing, `realistic` AWS's typical durations on a fast clock, `faults`
   * the short windows the fault matrix runs on.
   */
  profile?: ProfileName | Profile;
  /** How long the played bootstrap takes, in AWS seconds. Default: 300 when realistic, else 0. */
  bootstrapSeconds?: number;
  /**
   * Cancels the bake as `ami-bake cancel` does in AWS: the execution stops, then the bake is
   * cleaned up by tag and a Bake Failed event (error BakeCancelled) names the stage it was in.
   */
  signal?: AbortSignal;
  bakeId?: string;
  verbose?: boolean;
  onProgress?: (p: Progress) => void;
  /** Called as each Lambda invocation of the bake ends, with its local duration (the bench prices them). */
  onInvoke?: (fn: string, ms: number) => void;
}

export type Progress =
  | { kind: 'emulator'; message: string }
  | {
      kind: 'state';
      state: string;
      phase: 'start' | 'done' | 'failed';
      label: string;
      seconds?: number;
      /** The same duration on AWS's clock (seconds × the profile's clock). */
      awsSeconds?: number;
      note?: string;
    };

export interface BakeEvent {
  'detail-type': string;
  source: string;
  detail: Record<string, unknown>;
}

export interface LocalBakeResult {
  /**
   * `unannounced`: the images are finished and kept, but *Bake Succeeded* could not be published
   * (the state machine's BakeSucceededUnannounced outcome; an alarm fires in AWS).
   */
  status: 'succeeded' | 'failed' | 'unannounced';
  bakeId: string;
  recipe: string;
  imageName?: string;
  images: Record<string, { imageId: string; snapshotIds: string[] }>;
  /** Several architectures (recipe `architectures`): every image, by architecture and region. */
  architectures?: Partial<Record<Architecture, Record<string, { imageId: string; snapshotIds: string[] }>>>;
  failure?: { stage: string; error: string; cause: string; architecture?: Architecture };
  events: BakeEvent[];
  endpoint: string;
  durationSeconds: number;
  profile: string;
  /** Every finished Task state, in the order it ended, with its local and AWS-clock duration. */
  stages: { state: string; label: string; seconds: number; awsSeconds: number; ok: boolean }[];
  /** State transitions the execution made, as Step Functions Standard bills them (retries included). */
  transitions: number;
  /** What retention retired and kept after the bake (recipes with `retention` only). */
  retention?: RetentionReport[];
}

/** Endpoints of the layers this process started, so a second bake does not stack a layer on a layer. */
const layerUpstreams = new Map<string, string>();

/** The AWS-behaviour layer local bakes of this process use in front of `upstream`. */
export async function localLayer(upstream: string): Promise<BehaviourLayer> {
  const layer = await sharedBehaviourLayer(layerUpstreams.get(upstream) ?? upstream);
  layerUpstreams.set(layer.endpoint, layerUpstreams.get(upstream) ?? upstream);
  return layer;
}

/** Runs the real state machine with the real handlers against an AWS emulator. */
export async function runLocalBake(options: LocalBakeOptions): Promise<LocalBakeResult> {
  const started = Date.now();
  const progress = options.onProgress ?? (() => {});
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const bakeId = options.bakeId ?? randomUUID();
  let endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL;
  let stopEmulator: (() => Promise<void>) | undefined;
  if (!endpoint) {
    await ensureEmulator((m) => progress({ kind: 'emulator', message: m }));
    const emulator = await startEmulator();
    endpoint = emulator.endpoint;
    stopEmulator = emulator.stop;
    progress({ kind: 'emulator', message: `started ${emulatorVersion()} on ${endpoint}` });
    // Our own emulator: never let real credentials near it.
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  } else {
    progress({ kind: 'emulator', message: `using the emulator at ${endpoint}` });
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  }
  const { server: tokens, endpoint: tokenEndpoint } = sharedTaskTokenServer();
  // The handlers talk to AWS as deployed (the SDK's 5 attempts, defect 8 of issue 6), through the
  // layer that makes the emulator behave like EC2 (pending states, eventual consistency, ...).
  const layer = await localLayer(endpoint);
  // Bakes overlapping in this process share the stack, catalog, event queue and reconciler.
  const { session, leave } = joinSession(layer, region, options.profile ?? 'instant');
  // The SDK's backoff between attempts runs on the same clock as the ASL's retries (one clock per
  // process: concurrent local bakes share a profile).
  setRetryClock(layer.profile.clock);
  const profile = layer.profile.name;
  endpoint = layerUpstreams.get(endpoint) ?? endpoint;
  try {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: layer.endpoint,
      AWS_ENDPOINT_URL_SFN: await tokenEndpoint,
      AWS_REGION: region,
      POWERTOOLS_LOG_LEVEL: options.verbose ? 'INFO' : 'SILENT',
      // CloudWatch's metrics and X-Ray's traces have no local reader: the bake's own output (its
      // timeline) says what they would.
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
    delete process.env.AWS_MAX_ATTEMPTS;
    const stack = await session.stack(() => provisionLocalStack(region, forwardRegionsOf(options.recipe)));
    // The customer-managed keys a shared recipe names, as the account owner creates them once.
    const keyNames = JSON.stringify([options.recipe.distribution.kmsKeyIds, options.recipe.builder.volumes]);
    await session.recipeKeys(keyNames, () => provisionRecipeKeys(options.recipe, region));
    Object.assign(process.env, {
      EVENT_BUS_NAME: stack.busName,
      WAIT_TABLE_NAME: stack.tableName,
      BUILDER_INSTANCE_PROFILE: stack.instanceProfile,
      BUILDER_SECURITY_GROUP_ID: stack.securityGroupId,
    });
    const tap = await session.tap(bakeId, () =>
      tapEvents(region, stack.busName, sessionTapId(), { source: ['ami-bake'] }),
    );
    try {
      // The execution input names the recipe; ResolveRecipe reads it from RECIPES_DIR, as deployed.
      await session.addRecipe(options.recipe);
      const outcome = await execute({ ...options, region, bakeId, tokens, progress, layer, session });
      const events = await tap.read();
      // Retention runs on Bake Succeeded, as the deployed rule runs it; its Images Retired names this bake.
      const retention =
        outcome.status === 'succeeded' && options.recipe.retention
          ? await runLocalRetention(events, region)
          : undefined;
      if (retention) events.push(...(await tap.read()));
      return {
        ...outcome,
        ...(retention ? { retention } : {}),
        bakeId,
        recipe: options.recipe.name,
        events,
        endpoint,
        durationSeconds: (Date.now() - started) / 1000,
        profile,
      };
    } finally {
      await tap.remove();
    }
  } finally {
    await leave();
    await stopEmulator?.();
  }
}

interface ExecuteOptions extends LocalBakeOptions {
  region: string;
  bakeId: string;
  tokens: TaskTokenServer;
  progress: (p: Progress) => void;
  layer: BehaviourLayer;
  session: LocalSession;
  /** A child execution of a group (BakeArchitecture): the input BakeArchitectures started it with. */
  childInput?: Record<string, unknown>;
}

/**
 * AWS seconds between reconcileWaits runs. Deployed: every minute (serverless.yml); the instant
 * and faults profiles run it every local second so tests do not wait on it.
 * AMI_BAKE_LOCAL_RECONCILE_SECONDS (AWS seconds) overrides it: a test or the bench that must tell
 * the event path from the fallback moves the fallback out of the way.
 */
function reconcileAwsSeconds(layer: BehaviourLayer): number {
  const override = Number(process.env.AMI_BAKE_LOCAL_RECONCILE_SECONDS);
  if (override > 0) return override;
  return layer.profile.name === 'realistic' ? 60 : layer.profile.clock;
}

async function execute(o: ExecuteOptions) {
  // Imported only now: the handlers read their environment (endpoint, table, bus) at first use.
  const { StateMachine } = await import('aws-local-stepfunctions');
  const { resetConfig } = await import('../lib/config.js');
  resetConfig();
  const clock = o.layer.profile.clock;
  const definition = loadDefinition(o.region, clock);
  const handlers = await loadHandlers(definition.functions);
  const undoFailures = await simulateImageFailures(o.failCopyRegions ?? [], o.region, o.bakeId);
  const invoke = (fn: string, event: unknown) => {
    const handler = handlers.get(fn);
    if (!handler) throw new Error(`no handler for ${fn}`);
    const call = () => {
      const t0 = performance.now();
      const result = handler(event, lambdaContext(fn, o.region));
      if (o.onInvoke)
        void result.finally(() => o.onInvoke?.(fn, performance.now() - t0)).catch(() => undefined);
      return result;
    };
    if (fn === 'resumeWait') return o.session.resumeOnce(event, call);
    return call();
  };
  const captured: Record<string, unknown> = {};
  const outputs: Record<string, unknown> = {};
  const errors: Record<string, Error> = {};
  let current: string | undefined;
  const stages: LocalBakeResult['stages'] = [];
  // EC2 state-change events reach only the default bus of the region where the change happened;
  // the stack's rules forward the image events of its catalog regions to the build region's bus
  // (Ec2EventForwarding, provisioned with the local stack). Another region's event reaches
  // resumeWait only if the emulator holds a forwarding rule that matches it, as in AWS; the
  // reconciler answers the rest.
  const forwarding = await localForwarding(o.region, forwardRegionsOf(o.recipe));
  const unsubscribe = o.layer.onEc2Event((event) => {
    if (event.region !== o.region && !forwarding.forwards(event)) return;
    void invoke('resumeWait', event).catch(() => undefined);
  });
  type Json = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string] extends (
    i: infer I,
  ) => unknown
    ? I
    : never;
  const overrides: Record<string, (input: Json) => Promise<Json>> = {};
  for (const [state, fn] of Object.entries(definition.tasks)) {
    overrides[state] = async (input) => {
      const label = labelOf(state, input);
      o.progress({ kind: 'state', state, phase: 'start', label });
      current = state;
      const t0 = Date.now();
      try {
        captured[state] = input;
        const output = definition.waits.has(state)
          ? await callbackWait(state, input as unknown as { Payload: WaitPayload }, invoke, o)
          : await invoke(fn, input);
        const seconds = (Date.now() - t0) / 1000;
        outputs[state] = output;
        stages.push({ state, label, seconds, awsSeconds: seconds * clock, ok: true });
        o.progress({
          kind: 'state',
          state,
          phase: 'done',
          label,
          seconds,
          awsSeconds: seconds * clock,
          note: noteOf(state, output),
        });
        return output as Json;
      } catch (error) {
        const note = `${(error as Error).name}: ${(error as Error).message}`;
        errors[state] = error as Error;
        delete outputs[state];
        const seconds = (Date.now() - t0) / 1000;
        stages.push({ state, label, seconds, awsSeconds: seconds * clock, ok: false });
        o.progress({
          kind: 'state',
          state,
          phase: 'failed',
          label,
          seconds,
          awsSeconds: seconds * clock,
          note,
        });
        throw error;
      }
    };
  }
  // BakeArchitecture (startExecution.sync:2): the interpreter runs no `.sync` integration, so the
  // child execution runs here, through this same runner, and the task ends as AWS ends it: with the
  // child's execution and its output, or failing with States.TaskFailed and the child as cause.
  // A failed child fails the Map; AWS then stops the running children, as `siblings` does here.
  const siblings = new AbortController();
  const onParentAbort = () => siblings.abort();
  o.signal?.addEventListener('abort', onParentAbort, { once: true });
  const childRuns: Promise<unknown>[] = [];
  for (const state of definition.children) {
    overrides[state] = async (input) => {
      const { Name, Input } = input as unknown as { Name: string; Input: Record<string, unknown> };
      const architecture = String(Input.architecture);
      const label = `${state} ${architecture}`;
      o.progress({ kind: 'state', state, phase: 'start', label });
      const t0 = Date.now();
      const run = execute({
        ...o,
        bakeId: Name,
        childInput: Input,
        signal: siblings.signal,
        builder: typeof o.builder === 'object' ? o.builder[architecture as Architecture] : o.builder,
        progress: (p) => o.progress(p.kind === 'state' ? { ...p, label: `${architecture} ${p.label}` } : p),
      });
      childRuns.push(run.catch(() => undefined));
      const child = await run;
      const seconds = (Date.now() - t0) / 1000;
      stages.push(...child.stages.map((st) => ({ ...st, label: `${architecture} ${st.label}` })));
      stages.push({ state, label, seconds, awsSeconds: seconds * clock, ok: child.status === 'succeeded' });
      const executionArn = `${localStateMachineArn(o.region).replace(':stateMachine:', ':execution:')}:${Name}`;
      o.progress({
        kind: 'state',
        state,
        phase: child.status === 'succeeded' ? 'done' : 'failed',
        label,
        seconds,
      });
      if (child.status === 'succeeded') {
        return {
          ExecutionArn: executionArn,
          Name,
          Status: 'SUCCEEDED',
          Output: child.output,
        } as unknown as Json;
      }
      siblings.abort();
      const error = new Error(
        describedChildFailure({
          executionArn,
          name: Name,
          input: Input,
          error: child.ended?.name ?? 'States.Runtime',
          cause: child.ended?.message ?? '',
        }),
      );
      error.name = 'States.TaskFailed';
      throw error;
    };
  }
  // Not validated again here: test/config/asl.test.ts validates the same file with asl-validator,
  // and compiling the validator's schemas cost each local bake process ~0.5 s of CPU (issue 8).
  const machine = new StateMachine(definition.asl as unknown as StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
  const execution = machine.run(
    (o.childInput as Json | undefined) ?? {
      bakeId: o.bakeId,
      recipeName: o.recipe.name,
      ...(o.overrides ? { overrides: o.overrides } : {}),
    },
    {
      overrides: { taskResourceLocalHandlers: overrides },
      context: {
        Execution: { Id: `local:${o.bakeId}`, Name: o.bakeId, StartTime: new Date().toISOString() },
        StateMachine: { Id: localStateMachineArn(o.region), Name: 'ami-bake-local' },
        Task: { Token: 'minted-per-task-by-the-local-runner' },
      },
    },
  );
  const transitions = countTransitions(execution.eventLogs);
  let status: 'succeeded' | 'failed' = 'succeeded';
  let cancelled = false;
  const onAbort = () => {
    cancelled = true;
    execution.abort();
  };
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  let output: unknown;
  let ended: Error | undefined;
  try {
    output = await execution.result;
  } catch (error) {
    status = 'failed';
    // The interpreter wraps a Fail state's Error and Cause as the cause of its execution error.
    ended = ((error as { cause?: Error }).cause ?? error) as Error;
  } finally {
    // A group's request ends once every child has (their own cleanup included), as in AWS.
    await Promise.allSettled(childRuns);
    unsubscribe();
    undoFailures();
    o.signal?.removeEventListener('abort', onAbort);
    o.signal?.removeEventListener('abort', onParentAbort);
  }
  if (cancelled) {
    await cleanUpCancelledBake(o, invoke, captured, outputs, current ?? 'unknown');
  }
  // One last pass: answers (and forgets) waits whose execution moved on, as the schedule would
  // (one pass for the bakes ending together, not one each).
  await o.session.reconciler.now(() => invoke('reconcileWaits', {}));
  return {
    ...summarize(status, captured, outputs, errors),
    stages,
    transitions: transitions.count,
    output,
    ended,
  };
}

/**
 * State transitions as Step Functions Standard bills them (https://aws.amazon.com/step-functions/pricing/):
 * every state entered, the states of each Map iteration included, and every retry.
 */
function countTransitions(events: AsyncGenerator<{ type: string }>): { count: number } {
  const counter = { count: 0 };
  void (async () => {
    for await (const event of events) {
      if (event.type === 'StateEntered' || event.type === 'StateRetried') counter.count += 1;
    }
  })().catch(() => undefined);
  return counter;
}

/**
 * What a cancel does in AWS after StopExecution (lib/bakes/cancel.ts): a stopped execution runs
 * no more states, so the tag-driven cleanup and the Bake Failed event run outside it.
 */
async function cleanUpCancelledBake(
  o: ExecuteOptions,
  invoke: (fn: string, event: unknown) => Promise<unknown>,
  captured: Record<string, unknown>,
  outputs: Record<string, unknown>,
  stage: string,
) {
  const resolved = outputs.ResolveRecipe as { recipe?: unknown; context?: unknown } | undefined;
  const bake = {
    bakeId: o.bakeId,
    recipeName: o.recipe.name,
    recipe: resolved?.recipe ?? o.recipe,
    ...(resolved?.context ? { context: resolved.context } : {}),
    ...namedResources(outputs),
  };
  const failure = { [stage]: { Error: 'BakeCancelled', Cause: 'cancelled through the local runner' } };
  // In AWS the cancel's own cleanup may find a resource not yet visible; the execution-status
  // rule (cleanupEnded) runs the same cleanup again seconds later. Played here as retries.
  let cleanup: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      cleanup = await invoke('cleanup', { ...bake, failure });
      break;
    } catch (error) {
      if (attempt >= 4) {
        Object.assign(bake, {
          cleanupFailure: { Error: (error as Error).name, Cause: (error as Error).message },
        });
        break;
      }
      await new Promise((r) => setTimeout(r, (15_000 * attempt) / o.layer.profile.clock));
    }
  }
  // A child stopped because a sibling failed (or its request was cancelled): its request publishes.
  if (o.childInput) return;
  const input = { detailType: 'Bake Failed', bake: { ...bake, failure, ...(cleanup ? { cleanup } : {}) } };
  captured.PublishBakeFailed = input;
  await invoke('publishEvent', input).catch(() => undefined);
}

/**
 * The results that name a resource by id (the builder, the source image), under the keys the
 * execution keeps them: cleanup removes those even before its tag lookups show them.
 */
function namedResources(outputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(STATES as Record<StateName, StateDescription>).flatMap(([state, d]) =>
      d.names && !d.inside && d.resultPath && outputs[state] ? [[d.resultPath.slice(2), outputs[state]]] : [],
    ),
  );
}

function summarize(
  status: 'succeeded' | 'failed',
  captured: Record<string, unknown>,
  outputs: Record<string, unknown>,
  errors: Record<string, Error>,
) {
  type Bake = Pick<BakeResults, 'finalized' | 'architectures'> & {
    context?: { imageName?: string };
    failure?: Record<string, { Error: string; Cause?: string }>;
  };
  const succeeded = (captured.PublishBakeSucceeded as { bake?: Bake } | undefined)?.bake;
  const failed = (captured.PublishBakeFailed as { bake?: Bake } | undefined)?.bake;
  const bake = failed ?? succeeded;
  const [stage, f] = Object.entries(failed?.failure ?? {})[0] ?? [];
  const notAnnounced = errors.PublishBakeSucceeded;
  if (!failed && succeeded && !('PublishBakeSucceeded' in outputs) && notAnnounced) {
    return {
      status: 'unannounced' as const,
      imageName: succeeded.context?.imageName,
      images: succeeded.finalized?.images ?? {},
      failure: {
        stage: 'PublishBakeSucceeded',
        error: notAnnounced.name,
        cause: `the images exist and were kept; Bake Succeeded was not published: ${notAnnounced.message}`,
      },
    };
  }
  // A group's request: the images are its children's, and a failure is one child's.
  const group =
    !failed && succeeded?.architectures
      ? imagesByArchitecture(bakedImages(succeeded as unknown as ImagesState))
      : undefined;
  const child = stage === 'BakeArchitectures' && f ? childFailure(f) : undefined;
  return {
    status: failed ? ('failed' as const) : status,
    imageName: bake?.context?.imageName,
    images: failed ? {} : group ? (Object.values(group)[0] ?? {}) : (succeeded?.finalized?.images ?? {}),
    ...(group ? { architectures: group } : {}),
    failure: child
      ? { stage: child.stage, error: child.error, cause: child.cause, architecture: child.architecture }
      : failed && stage && f
        ? { stage, error: f.Error, cause: causeText(f.Cause) }
        : undefined,
  };
}

interface WaitPayload {
  kind: string;
  region: string;
  resourceId: string;
  budgetSeconds: number;
  taskToken: string;
}

/**
 * A `.waitForTaskToken` state, played as Step Functions would: mint a token, invoke registerWait
 * with it, and block until the real resume/reconcile code answers it through the SFN API, or
 * until the state's time budget runs out (States.Timeout).
 */
async function callbackWait(
  state: string,
  input: { Payload: WaitPayload },
  invoke: (fn: string, event: unknown) => Promise<unknown>,
  o: ExecuteOptions,
): Promise<unknown> {
  const { token, answer, forget } = o.tokens.mint();
  const payload = { ...input.Payload, taskToken: token };
  const clock = o.layer.profile.clock;
  let timer: NodeJS.Timeout | undefined;
  let release: (() => void) | undefined;
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const error = new Error(`${state} did not finish within its budget of ${payload.budgetSeconds} s`);
        error.name = 'States.Timeout';
        reject(error);
      },
      (payload.budgetSeconds * 1000) / clock,
    );
  });
  answer.catch(() => undefined); // settled below; avoid an unhandled rejection while registering
  const stopped = { done: false };
  try {
    await invoke('registerWait', payload);
    // The builder boots and runs the bootstrap while the state machine waits; it reports by
    // tagging and stopping its instance, and the stop's EC2 event (or the reconciler) resumes us.
    // A test instance (WaitForTest) runs the test script through the same wrapper: played alike.
    const test = state === 'WaitForTest';
    const builderBehaviour = typeof o.builder === 'object' ? undefined : o.builder;
    const behaviour = (test ? o.testInstances : builderBehaviour) ?? 'succeed';
    const builder =
      payload.kind === 'instance-stopped'
        ? playBuilder(new EC2Client({ region: payload.region }), payload.resourceId, behaviour, {
            bootstrapMs: ((test ? testAwsSeconds(o) : bootstrapAwsSeconds(o)) * 1000) / clock,
            role: test ? 'test' : 'builder',
            writeConsole: (text) => o.layer.writeConsole(payload.region, payload.resourceId, text),
            cancelled: () => stopped.done,
          }).then(() => new Promise<never>(() => {}))
        : new Promise<never>(() => {});
    // The stack's one schedule, shared by every bake of the process that is waiting.
    release = o.session.reconciler.hold(
      () => invoke('reconcileWaits', {}),
      () => (reconcileAwsSeconds(o.layer) * 1000) / clock,
    );
    return await Promise.race([answer, budget, builder]);
  } finally {
    stopped.done = true;
    clearTimeout(timer);
    release?.();
    forget();
  }
}

/** A test instance boots from the baked image and runs a short script: a minute when realistic. */
function testAwsSeconds(o: ExecuteOptions): number {
  return o.layer.profile.name === 'realistic' ? 60 : 0;
}

function bootstrapAwsSeconds(o: ExecuteOptions): number {
  return o.bootstrapSeconds ?? (o.layer.profile.name === 'realistic' ? 300 : 0);
}

/** A state inside the CopyImages Map runs once per target region: its label names the region. */
function labelOf(state: string, input: unknown): string {
  const i = input as {
    target?: { region?: string };
    test?: { instanceType?: string };
    instance?: { instanceType?: string };
    Payload?: { region?: string };
  };
  const inside = descriptionOf(state)?.inside;
  // TestImage runs once per instance type: its states are labelled with the type.
  if (inside === 'TestImage') {
    const type = i?.instance?.instanceType ?? i?.test?.instanceType;
    return type ? `${state} ${type}` : state;
  }
  const region = inside ? (i?.target?.region ?? i?.Payload?.region) : undefined;
  return region ? `${state} ${region}` : state;
}

/** One line about a finished state's result, typed by lib/workflow/states.ts. */
const NOTES: { [S in StateName]?: (result: StateResults[S]) => string | undefined } = {
  ResolveRecipe: ({ context: c }) =>
    c?.base ? `base ${c.base.imageId} (${c.base.name}), image ${c.imageName}` : undefined,
  LaunchBuilder: (r) =>
    `builder ${r.instanceId}${r.instanceType ? ` (${r.instanceType})` : ''}${r.attempts?.length ? `, after ${r.attempts.map((a) => `${a.instanceType}: ${a.error}`).join(', ')}` : ''}`,
  WaitForBuilder: (r) => `bootstrap ${r.outcome} (exit ${r.exitCode})`,
  LaunchTest: (r) => `test instance ${r.instanceId}`,
  WaitForTest: (r) => `test ${r.outcome} (exit ${r.exitCode})`,
  TerminateTest: (r) => `passed, ${r.secondsToDone}s from launch to done`,
  CreateImage: (r) => `image ${r.imageId}`,
  CopyImage: (r) => `image ${r.imageId}`,
  WaitForImage: (r) => `available, snapshots ${r.snapshotIds?.join(', ')}`,
  WaitForCopy: (r) => `available, snapshots ${r.snapshotIds?.join(', ')}`,
  DistributeImage: (r) =>
    r.parameters.length + r.launchTemplates.length === 0
      ? undefined
      : `${r.parameters.length} parameter(s), ${r.launchTemplates.length} launch template version(s)`,
  Cleanup: (r) =>
    `terminated ${r.terminatedInstances?.length ?? 0} instance(s), deregistered ${r.deregisteredImages?.length ?? 0} image(s), deleted ${r.deletedSnapshots?.length ?? 0} snapshot(s)`,
};

function noteOf(state: string, output: unknown): string | undefined {
  const note = NOTES[state as StateName] as ((result: unknown) => string | undefined) | undefined;
  return note?.(output);
}
