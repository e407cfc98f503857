import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { Context } from 'aws-lambda';
import type { RunOptions, StateMachineDefinition } from 'aws-local-stepfunctions';
import { parse } from 'yaml';
import type { ResolvedRecipe } from '../lib/state.js';
import { type BuilderBehaviour, playBuilder } from './builder.js';
import { emulatorVersion, ensureEmulator, startEmulator } from './emulator.js';
import { provisionLocalStack, tapEvents } from './stack.js';
import { sharedTaskTokenServer, type TaskTokenServer } from './task-tokens.js';

// aws-local-stepfunctions calls Promise.withResolvers (Node >= 22); Node 20 still runs the CLI.
if (!('withResolvers' in Promise)) {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const definitionPath = join(root, 'statemachine', 'bake.asl.yml');

export interface LocalBakeOptions {
  recipe: ResolvedRecipe;
  /** Build region. Default: AWS_REGION, else us-east-1. */
  region?: string;
  /** An emulator to use; default AWS_ENDPOINT_URL, else a moto server is started and stopped. */
  endpoint?: string;
  builder?: BuilderBehaviour;
  /** Regions whose copy EC2 reports as failed (simulated). */
  failCopyRegions?: string[];
  bakeId?: string;
  verbose?: boolean;
  onProgress?: (p: Progress) => void;
}

export type Progress =
  | { kind: 'emulator'; message: string }
  | {
      kind: 'state';
      state: string;
      phase: 'start' | 'done' | 'failed';
      label: string;
      seconds?: number;
      note?: string;
    };

export interface BakeEvent {
  'detail-type': string;
  source: string;
  detail: Record<string, unknown>;
}

export interface LocalBakeResult {
  status: 'succeeded' | 'failed';
  bakeId: string;
  recipe: string;
  imageName?: string;
  images: Record<string, { imageId: string; snapshotIds: string[] }>;
  failure?: { stage: string; error: string; cause: string };
  events: BakeEvent[];
  endpoint: string;
  durationSeconds: number;
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;

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
  try {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ENDPOINT_URL_SFN: await tokenEndpoint,
      AWS_REGION: region,
      AWS_MAX_ATTEMPTS: '2',
      POWERTOOLS_LOG_LEVEL: options.verbose ? 'INFO' : 'SILENT',
    });
    const stack = await provisionLocalStack(region);
    Object.assign(process.env, {
      EVENT_BUS_NAME: stack.busName,
      WAIT_TABLE_NAME: stack.tableName,
      BUILDER_INSTANCE_PROFILE: stack.instanceProfile,
      BUILDER_SECURITY_GROUP_ID: stack.securityGroupId,
    });
    const tap = await tapEvents(region, stack.busName, bakeId, {
      source: ['ami-bake'],
      detail: { bakeId: [bakeId] },
    });
    try {
      const outcome = await execute({ ...options, region, bakeId, tokens, progress });
      const events = await tap.read();
      return {
        ...outcome,
        bakeId,
        recipe: options.recipe.name,
        events,
        endpoint,
        durationSeconds: (Date.now() - started) / 1000,
      };
    } finally {
      await tap.remove();
    }
  } finally {
    await stopEmulator?.();
  }
}

interface ExecuteOptions extends LocalBakeOptions {
  region: string;
  bakeId: string;
  tokens: TaskTokenServer;
  progress: (p: Progress) => void;
}

async function execute(o: ExecuteOptions) {
  // Imported only now: the handlers read their environment (endpoint, table, bus) at first use.
  const { StateMachine } = await import('aws-local-stepfunctions');
  const { resetConfig } = await import('../lib/config.js');
  resetConfig();
  const definition = loadDefinition(o.region);
  const handlers = await loadHandlers(definition.functions);
  await simulateCopyFailures(o.failCopyRegions ?? []);
  const invoke = (fn: string, event: unknown) => {
    const handler = handlers.get(fn);
    if (!handler) throw new Error(`no handler for ${fn}`);
    return handler(event, lambdaContext(fn, o.region));
  };
  const captured: Record<string, unknown> = {};
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
      const t0 = Date.now();
      try {
        captured[state] = input;
        const output = definition.waits.has(state)
          ? await callbackWait(state, input as unknown as { Payload: WaitPayload }, invoke, o)
          : await invoke(fn, input);
        o.progress({
          kind: 'state',
          state,
          phase: 'done',
          label,
          seconds: (Date.now() - t0) / 1000,
          note: noteOf(state, output),
        });
        return output as Json;
      } catch (error) {
        const note = `${(error as Error).name}: ${(error as Error).message}`;
        o.progress({ kind: 'state', state, phase: 'failed', label, seconds: (Date.now() - t0) / 1000, note });
        throw error;
      }
    };
  }
  const machine = new StateMachine(definition.asl as unknown as StateMachineDefinition, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const execution = machine.run(
    { bakeId: o.bakeId, recipe: o.recipe },
    {
      overrides: { taskResourceLocalHandlers: overrides },
      context: {
        Execution: { Id: `local:${o.bakeId}`, Name: o.bakeId, StartTime: new Date().toISOString() },
        Task: { Token: 'minted-per-task-by-the-local-runner' },
      },
    },
  );
  let status: 'succeeded' | 'failed' = 'succeeded';
  try {
    await execution.result;
  } catch {
    status = 'failed';
  }
  // One last pass: answers (and forgets) waits whose execution moved on, as the schedule would.
  await invoke('reconcileWaits', {}).catch(() => undefined);
  return summarize(status, captured);
}

function summarize(status: 'succeeded' | 'failed', captured: Record<string, unknown>) {
  type Bake = {
    context?: { imageName?: string };
    finalized?: { images: LocalBakeResult['images'] };
    failure?: Record<string, { Error: string; Cause?: string }>;
  };
  const succeeded = (captured.PublishBakeSucceeded as { bake?: Bake } | undefined)?.bake;
  const failed = (captured.PublishBakeFailed as { bake?: Bake } | undefined)?.bake;
  const bake = failed ?? succeeded;
  const [stage, f] = Object.entries(failed?.failure ?? {})[0] ?? [];
  return {
    status: failed ? ('failed' as const) : status,
    imageName: bake?.context?.imageName,
    images: failed ? {} : (succeeded?.finalized?.images ?? {}),
    failure: failed && stage && f ? { stage, error: f.Error, cause: causeOf(f.Cause) } : undefined,
  };
}

function causeOf(cause: string | undefined): string {
  try {
    const parsed = JSON.parse(cause ?? '') as { errorMessage?: string };
    return parsed.errorMessage ?? cause ?? '';
  } catch {
    return cause ?? '';
  }
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
  let timer: NodeJS.Timeout | undefined;
  let reconciler: NodeJS.Timeout | undefined;
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`${state} did not finish within its budget of ${payload.budgetSeconds} s`);
      error.name = 'States.Timeout';
      reject(error);
    }, payload.budgetSeconds * 1000);
  });
  answer.catch(() => undefined); // settled below; avoid an unhandled rejection while registering
  try {
    await invoke('registerWait', payload);
    if (payload.kind === 'instance-stopped') {
      const ec2 = new EC2Client({ region: payload.region, maxAttempts: 2 });
      const played = await playBuilder(ec2, payload.resourceId, o.builder ?? 'succeed');
      if (played.outcome !== 'none') {
        // What EventBridge delivers to resumeWait when the builder powers off.
        await invoke('resumeWait', {
          'detail-type': 'EC2 Instance State-change Notification',
          source: 'aws.ec2',
          region: payload.region,
          detail: { 'instance-id': payload.resourceId, state: 'stopped' },
        });
      }
    }
    // The scheduled reconciler, at local speed.
    reconciler = setInterval(() => void invoke('reconcileWaits', {}).catch(() => undefined), 1000);
    return await Promise.race([answer, budget]);
  } finally {
    clearTimeout(timer);
    clearInterval(reconciler);
    forget();
  }
}

/** Plays EC2 failing a copy: DescribeImages in that region reports the copied image as failed. */
async function simulateCopyFailures(regions: string[]) {
  if (regions.length === 0) return;
  const { ec2 } = await import('../lib/aws/clients.js');
  const { TAG } = await import('../lib/tags.js');
  for (const region of regions) {
    ec2(region).middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'DescribeImagesCommand') {
          const images =
            (
              result.output as {
                Images?: { State?: string; StateReason?: unknown; Tags?: { Key?: string }[] }[];
              }
            ).Images ?? [];
          for (const image of images) {
            if (image.Tags?.some((t) => t.Key === TAG.sourceRegion)) {
              image.State = 'failed';
              image.StateReason = {
                Code: 'Client.SimulatedFailure',
                Message: 'simulated copy failure (--simulate-copy-failure)',
              };
            }
          }
        }
        return result;
      },
      { step: 'initialize', name: 'simulateCopyFailure' },
    );
  }
}

function labelOf(state: string, input: unknown): string {
  const i = input as { target?: { region?: string }; Payload?: { region?: string } };
  const region = i?.target?.region ?? (state === 'WaitForCopy' ? i?.Payload?.region : undefined);
  return region ? `${state} ${region}` : state;
}

function noteOf(state: string, output: unknown): string | undefined {
  const o = output as Record<string, unknown> & {
    base?: { imageId: string; name: string };
    imageName?: string;
  };
  if (state === 'ResolveRecipe' && o.base)
    return `base ${o.base.imageId} (${o.base.name}), image ${o.imageName}`;
  if (state === 'LaunchBuilder') return `builder ${String(o.instanceId)}`;
  if (state === 'WaitForBuilder') return `bootstrap ${String(o.outcome)} (exit ${String(o.exitCode)})`;
  if (state === 'CreateImage' || state === 'CopyImage') return `image ${String(o.imageId)}`;
  if (state === 'WaitForImage' || state === 'WaitForCopy')
    return `available, snapshots ${(o.snapshotIds as string[] | undefined)?.join(', ')}`;
  if (state === 'Cleanup') {
    const r = o as {
      terminatedInstances?: unknown[];
      deregisteredImages?: unknown[];
      deletedSnapshots?: unknown[];
    };
    return `terminated ${r.terminatedInstances?.length ?? 0} instance(s), deregistered ${r.deregisteredImages?.length ?? 0} image(s), deleted ${r.deletedSnapshots?.length ?? 0} snapshot(s)`;
  }
  return undefined;
}

function lambdaContext(functionName: string, region: string): Context {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

interface Definition {
  asl: Record<string, unknown>;
  /** Task state name → function key. */
  tasks: Record<string, string>;
  /** `.waitForTaskToken` states. */
  waits: Set<string>;
  functions: Set<string>;
}

/**
 * Reads the same ASL file serverless.yml deploys. `Fn::GetAtt` references become ARNs, and the
 * state → function mapping is read from them (no second table to keep in step). Budgets
 * (TimeoutSecondsPath) are enforced by callbackWait, since the interpreter evaluates the path
 * against the effective input rather than the state input.
 */
export function loadDefinition(region: string): Definition {
  const asl = parse(readFileSync(definitionPath, 'utf8')) as Record<string, unknown>;
  const tasks: Record<string, string> = {};
  const waits = new Set<string>();
  const walkStates = (states: Record<string, Record<string, unknown>>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const ref = (state.Resource as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
        const params = state.Parameters as { FunctionName?: { 'Fn::GetAtt'?: string[] } } | undefined;
        const fn = ref?.[0] ?? params?.FunctionName?.['Fn::GetAtt']?.[0];
        if (fn) tasks[name] = fn;
        if (String(state.Resource).endsWith('.waitForTaskToken')) {
          waits.add(name);
          delete state.TimeoutSecondsPath;
          state.TimeoutSeconds = 1_000_000;
        }
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as
        | { States?: Record<string, Record<string, unknown>> }
        | undefined;
      if (processor?.States) walkStates(processor.States);
    }
  };
  walkStates(asl.States as Record<string, Record<string, unknown>>);
  const replaced = replaceGetAtt(asl, region) as Record<string, unknown>;
  return {
    asl: replaced,
    tasks,
    waits,
    functions: new Set([...Object.values(tasks), 'resumeWait', 'reconcileWaits']),
  };
}

function replaceGetAtt(value: unknown, region: string): unknown {
  if (Array.isArray(value)) return value.map((v) => replaceGetAtt(v, region));
  if (value && typeof value === 'object') {
    const getAtt = (value as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
    if (getAtt) return `arn:aws:lambda:${region}:123456789012:function:ami-bake-local-${getAtt[0]}`;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceGetAtt(v, region)]));
  }
  return value;
}

/** functionKey (camelCase) → functions/<kebab-case>/handler.ts, the layout serverless.yml uses. */
export function handlerPath(functionKey: string): string {
  const folder = functionKey.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return join(root, 'functions', folder, 'handler.ts');
}

async function loadHandlers(functions: Set<string>): Promise<Map<string, Handler>> {
  const entries = await Promise.all(
    [...functions].map(async (fn) => {
      const mod = (await import(handlerPath(fn))) as { handler: Handler };
      return [fn, mod.handler] as const;
    }),
  );
  return new Map(entries);
}
