import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { parse } from 'yaml';

// aws-local-stepfunctions calls Promise.withResolvers (Node >= 22); an older Node still runs the CLI
// when told to (AMI_BAKE_IGNORE_NODE=1, as the tests do on one).
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

/** The deployed workflow, read for the local runner: the same ASL file serverless.yml packages. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const definitionPath = join(root, 'statemachine', 'bake.asl.yml');

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

export function lambdaContext(functionName: string, region: string): Context {
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

export interface Definition {
  asl: Record<string, unknown>;
  /** Task state name → function key. */
  tasks: Record<string, string>;
  /** `.waitForTaskToken` states. */
  waits: Set<string>;
  /**
   * `states:startExecution.sync` states (BakeArchitecture): the interpreter runs no `.sync`
   * integration, so the local runner runs the child execution itself.
   */
  children: Set<string>;
  functions: Set<string>;
}

/**
 * Reads the same ASL file serverless.yml deploys. `Fn::GetAtt` references become ARNs, and the
 * state → function mapping is read from them (no second table to keep in step). Budgets
 * (TimeoutSecondsPath) are enforced by callbackWait, since the interpreter evaluates the path
 * against the effective input rather than the state input.
 */
export function loadDefinition(region: string, clock = 1): Definition {
  // A JSON round trip un-shares YAML aliases (`Retry: *transient`), so each state is scaled once.
  const asl = JSON.parse(JSON.stringify(parse(readFileSync(definitionPath, 'utf8')))) as Record<
    string,
    unknown
  >;
  const tasks: Record<string, string> = {};
  const waits = new Set<string>();
  const children = new Set<string>();
  const walkStates = (states: Record<string, Record<string, unknown>>) => {
    for (const [name, state] of Object.entries(states)) {
      // Retry intervals are AWS time: on a fast clock they pass as fast as the layer's durations.
      for (const retrier of (state.Retry ?? []) as Record<string, number>[]) {
        if (clock === 1) break;
        if (retrier.IntervalSeconds !== undefined) retrier.IntervalSeconds /= clock;
        if (retrier.MaxDelaySeconds !== undefined) retrier.MaxDelaySeconds /= clock;
      }
      if (state.Type === 'Choice') state.Choices = (state.Choices as ChoiceRule[]).map(presentFalse);
      if (state.Type === 'Task') {
        const ref = (state.Resource as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
        const params = state.Parameters as { FunctionName?: { 'Fn::GetAtt'?: string[] } } | undefined;
        const fn = ref?.[0] ?? params?.FunctionName?.['Fn::GetAtt']?.[0];
        if (fn) tasks[name] = fn;
        if (String(state.Resource).startsWith('arn:aws:states:::states:startExecution.sync'))
          children.add(name);
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
    children,
    functions: new Set([...Object.values(tasks), 'resumeWait', 'reconcileWaits']),
  };
}

type ChoiceRule = Record<string, unknown>;

/**
 * aws-local-stepfunctions 3.0.0 evaluates `IsPresent: false` as never true (`IsPresent && ...`);
 * Step Functions matches it when the path is absent. The same rule written with Not runs alike in
 * both, so the local runner and the workflow tests take the branches AWS takes.
 */
function presentFalse(rule: ChoiceRule): ChoiceRule {
  const { Next, ...test } = rule;
  const rewritten = (r: ChoiceRule): ChoiceRule => {
    if (r.IsPresent === false) return { Not: { Variable: r.Variable, IsPresent: true } };
    if (Array.isArray(r.And)) return { And: (r.And as ChoiceRule[]).map(rewritten) };
    if (Array.isArray(r.Or)) return { Or: (r.Or as ChoiceRule[]).map(rewritten) };
    if (r.Not) return { Not: rewritten(r.Not as ChoiceRule) };
    return r;
  };
  return { ...rewritten(test), ...(Next === undefined ? {} : { Next }) };
}

/** serverless.yml's custom.stateMachineArn, as the ASL names its own state machine (BakeArchitecture). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Serverless variable, not JavaScript's.
export const SELF_ARN = '${self:custom.stateMachineArn}';
export const localStateMachineArn = (region: string) =>
  `arn:aws:states:${region}:123456789012:stateMachine:ami-bake-local`;

function replaceGetAtt(value: unknown, region: string): unknown {
  if (value === SELF_ARN) return localStateMachineArn(region);
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

/**
 * Each handler module by function key, imported only when a local bake needs it. Written out (not
 * built from handlerPath) so that the prebuilt CLI bundle (scripts/build-cli.mjs) can include them.
 */
const HANDLER_MODULES: Record<string, () => Promise<{ handler: Handler }>> = {
  resolveRecipe: () => import('../functions/resolve-recipe/handler.js'),
  launchBuilder: () => import('../functions/launch-builder/handler.js'),
  registerWait: () => import('../functions/register-wait/handler.js'),
  resumeWait: () => import('../functions/resume-wait/handler.js'),
  reconcileWaits: () => import('../functions/reconcile-waits/handler.js'),
  stopBuilder: () => import('../functions/stop-builder/handler.js'),
  createImage: () => import('../functions/create-image/handler.js'),
  copyImage: () => import('../functions/copy-image/handler.js'),
  finalizeImage: () => import('../functions/finalize-image/handler.js'),
  terminateBuilder: () => import('../functions/terminate-builder/handler.js'),
  distributeImage: () => import('../functions/distribute-image/handler.js'),
  launchTest: () => import('../functions/launch-test/handler.js'),
  terminateTest: () => import('../functions/terminate-test/handler.js'),
  cleanup: () => import('../functions/cleanup/handler.js'),
  cleanupEnded: () => import('../functions/cleanup-ended/handler.js'),
  publishEvent: () => import('../functions/publish-event/handler.js'),
  sweepLeftovers: () => import('../functions/sweep-leftovers/handler.js'),
  retireImages: () => import('../functions/retire-images/handler.js'),
  startBake: () => import('../functions/start-bake/handler.js'),
};

export async function loadHandlers(functions: Set<string>): Promise<Map<string, Handler>> {
  const entries = await Promise.all(
    [...functions].map(async (fn) => {
      const load = HANDLER_MODULES[fn];
      const mod = load ? await load() : ((await import(handlerPath(fn))) as { handler: Handler });
      return [fn, mod.handler] as const;
    }),
  );
  return new Map(entries);
}
