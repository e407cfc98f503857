import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** Just enough of Amazon States Language for the configuration tests. */
export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
}

export interface Retrier {
  ErrorEquals: string[];
}

export interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  /** Absent: the default `$` (the result becomes the state); null: the result is dropped. */
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Retry?: Retrier[];
  Catch?: Catcher[];
  Default?: string;
  Choices?: { Next: string }[];
  ItemProcessor?: StateMachine;
  Iterator?: StateMachine;
  Branches?: StateMachine[];
}

export interface StateMachine {
  StartAt: string;
  States: Record<string, State>;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ASL_PATH = fileURLToPath(new URL('../../statemachine/bake.asl.yml', import.meta.url));

const FAKE_FUNCTION_ARN_PREFIX = 'arn:aws:lambda:us-east-1:123456789012:function:';

/**
 * The ASL file with every `Fn::GetAtt: [fnKey, Arn]` replaced by a fake Lambda ARN whose last
 * segment is the function key, so a plain ASL validator can read it.
 */
export function loadAsl(): StateMachine {
  const raw: unknown = parse(readFileSync(ASL_PATH, 'utf8'));
  return replaceGetAtt(raw) as StateMachine;
}

function replaceGetAtt(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(replaceGetAtt);
  if (value === null || typeof value !== 'object') return value;
  const getAtt = (value as Record<string, unknown>)['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn') return `${FAKE_FUNCTION_ARN_PREFIX}${String(getAtt[0])}`;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceGetAtt(v)]));
}

/** The function key in a fake ARN made by `loadAsl`. */
export function fakeArnFunctionKey(arn: unknown): string | undefined {
  return typeof arn === 'string' && arn.startsWith(FAKE_FUNCTION_ARN_PREFIX)
    ? arn.slice(FAKE_FUNCTION_ARN_PREFIX.length)
    : undefined;
}

export const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/**
 * The naming rule of the workflow: a Task state invokes the function of the same name
 * (`CreateImage` → `createImage`), except the callback waits and the event publishers.
 */
export function expectedFunctionKey(stateName: string): string {
  if (stateName.startsWith('WaitFor')) return 'registerWait';
  if (stateName.startsWith('Publish')) return 'publishEvent';
  return stateName.charAt(0).toLowerCase() + stateName.slice(1);
}

/** Every nested state machine of a state (Map processors, Parallel branches). */
export function childMachines(state: State): StateMachine[] {
  return [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].filter(
    (m): m is StateMachine => m !== undefined,
  );
}

export interface VisitedState {
  name: string;
  state: State;
  /** The name of the Map or Parallel state this one runs inside, if any. */
  parent: string | undefined;
}

/** Every state, depth first, including those inside Map processors and Parallel branches. */
export function allStates(machine: StateMachine, parent?: string): VisitedState[] {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    { name, state, parent },
    ...childMachines(state).flatMap((child) => allStates(child, name)),
  ]);
}

/** The states a state can hand over to within the same machine (Next, Default, Choices, Catch). */
export function successors(state: State): string[] {
  return [
    state.Next,
    state.Default,
    ...(state.Choices ?? []).map((c) => c.Next),
    ...(state.Catch ?? []).map((c) => c.Next),
  ].filter((n): n is string => n !== undefined);
}
