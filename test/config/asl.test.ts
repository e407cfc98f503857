import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import * as errors from '../../lib/errors.js';
import {
  BakeError,
  ERROR_HANDLING,
  ERROR_NAMES,
  LAUNCH_CAPACITY_ERRORS,
  TRANSIENT_AWS_ERRORS,
} from '../../lib/errors.js';
import {
  allStates,
  childMachines,
  expectedFunctionKey,
  fakeArnFunctionKey,
  loadAsl,
  type Retrier,
  type State,
  type StateMachine,
  successors,
  WAIT_FOR_TASK_TOKEN,
} from './asl.js';

/**
 * Where failures go: everything to Cleanup, Cleanup on to the failure event, that to the Fail
 * state; except after the images are delivered, where nothing may be cleaned up.
 */
const CATCH_TARGET: Record<string, string> = {
  // A Choice: a child of a group ends failed without publishing, its request publishes.
  Cleanup: 'Ended',
  PublishBakeFailed: 'BakeFailed',
  PublishBakeSucceeded: 'BakeSucceededUnannounced',
};

/** BakeArchitecture: a child execution of this state machine per architecture, not a function. */
const START_CHILD_EXECUTION = 'arn:aws:states:::states:startExecution.sync:2';

const asl = loadAsl();
const states = allStates(asl);
const tasks = states.filter((s) => s.state.Type === 'Task');

describe('statemachine/bake.asl.yml', () => {
  it('is valid Amazon States Language', () => {
    // asl-validator adds QueryLanguage to every state it sees: validate a copy.
    const result = aslValidator(structuredClone(asl));

    expect(result.errorsText(), result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('gives every Task a timeout and retries', () => {
    expect(tasks.length).toBeGreaterThan(10);
    for (const { name, state } of tasks) {
      expect(state.TimeoutSeconds ?? state.TimeoutSecondsPath, `${name} has no timeout`).toBeDefined();
      expect(state.Retry?.length, `${name} has no Retry`).toBeGreaterThan(0);
    }
  });

  it('retries every transient AWS error in every Task state, Cleanup and the Publish states included', () => {
    for (const { name, state } of tasks) {
      const retried = new Set(
        (state.Retry ?? [])
          .filter((r) => ((r as { MaxAttempts?: number }).MaxAttempts ?? 3) > 0)
          .flatMap((r) => r.ErrorEquals),
      );
      const missing = TRANSIENT_AWS_ERRORS.filter((e) => !retried.has(e));

      expect(missing, `${name} does not retry ${missing.join(', ')}`).toEqual([]);
    }
  });

  it.each([
    ['PublishBakeStarted', 'EventThrottledError'],
    ['PublishBakeSucceeded', 'EventThrottledError'],
    ['PublishBakeFailed', 'EventThrottledError'],
    ['CreateImage', 'ImageNotYetVisibleError'],
    ['LaunchBuilder', 'InsufficientInstanceCapacity'],
  ])('%s also retries %s', (stateName, error) => {
    const state = states.find((s) => s.name === stateName)?.state;

    expect(state?.Retry?.flatMap((r) => r.ErrorEquals)).toContain(error);
  });

  it('catches every error of a top-level Task, and of a Map for the Tasks inside it', () => {
    for (const { name, state, parent } of tasks) {
      const catcher = parent === undefined ? state : asl.States[parent];
      const catchesAll = (catcher?.Catch ?? []).some((c) => c.ErrorEquals.includes('States.ALL'));
      expect(catchesAll, `${parent ?? name} does not catch States.ALL`).toBe(true);
    }
  });

  it('retries a transient failure to publish Bake Succeeded for about an hour, then keeps the images', () => {
    type Backoff = Retrier & {
      IntervalSeconds: number;
      MaxAttempts: number;
      BackoffRate: number;
      MaxDelaySeconds: number;
    };
    const retry = (asl.States.PublishBakeSucceeded?.Retry ?? []) as Backoff[];
    const end = asl.States.BakeSucceededUnannounced as State & { Error?: string };
    const transient = [...TRANSIENT_AWS_ERRORS, 'EventThrottledError', 'Lambda.TooManyRequestsException'];

    expect(retry.length).toBeGreaterThan(0);
    for (const r of retry.filter((r) => r.ErrorEquals.some((e) => transient.includes(e)))) {
      const delays = Array.from({ length: r.MaxAttempts }, (_, i) =>
        Math.min(r.IntervalSeconds * r.BackoffRate ** i, r.MaxDelaySeconds),
      );
      const longest = delays.reduce((a, b) => a + b, 0);
      // Full jitter waits half of that on average: at least 45 minutes.
      expect(longest, r.ErrorEquals.join()).toBeGreaterThanOrEqual(5400);
    }
    expect(retry.flatMap((r) => r.ErrorEquals)).toEqual(expect.arrayContaining(transient));
    expect(end).toMatchObject({ Type: 'Fail', Error: 'BakeSucceededNotAnnounced' });
  });

  // YAML aliases cannot join lists, so PublishBakeSucceeded writes out the names of the other
  // Publish states' retriers again, in one retrier of its own: this keeps the two in step.
  it('retries in PublishBakeSucceeded, with one retrier, exactly what the other Publish states retry', () => {
    const retried = (stateName: string) =>
      new Set((asl.States[stateName]?.Retry ?? []).flatMap((r) => r.ErrorEquals));

    expect(asl.States.PublishBakeSucceeded?.Retry).toHaveLength(1);
    expect(retried('PublishBakeSucceeded')).toEqual(retried('PublishBakeStarted'));
    expect(retried('PublishBakeSucceeded')).toEqual(retried('PublishBakeFailed'));
  });

  it('sends every caught failure to Cleanup, and Cleanup on to the Bake Failed event', () => {
    const catchers = states.filter((s) => (s.state.Catch ?? []).length > 0);
    expect(catchers.map((s) => s.name)).toEqual(expect.arrayContaining(['Cleanup', 'PublishBakeFailed']));
    for (const { name, state } of catchers) {
      for (const c of state.Catch ?? []) {
        expect(c.Next, `${name} catches into ${c.Next}`).toBe(CATCH_TARGET[name] ?? 'Cleanup');
      }
    }
  });

  it('can reach every state from StartAt', () => {
    const unreachable = (machine: StateMachine): string[] => {
      const seen = new Set<string>();
      const queue = [machine.StartAt];
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        if (seen.has(name)) continue;
        seen.add(name);
        const state = machine.States[name];
        if (state) queue.push(...successors(state));
      }
      const nested = Object.values(machine.States).flatMap((s) => childMachines(s).flatMap(unreachable));
      return [...Object.keys(machine.States).filter((n) => !seen.has(n)), ...nested];
    };

    expect(unreachable(asl)).toEqual([]);
  });

  it('invokes the function named after each Task state', () => {
    for (const { name, state } of tasks.filter((t) => t.state.Resource !== START_CHILD_EXECUTION)) {
      const target = state.Resource === WAIT_FOR_TASK_TOKEN ? state.Parameters?.FunctionName : state.Resource;
      expect(fakeArnFunctionKey(target), name).toBe(expectedFunctionKey(name));
    }
  });

  it('matches only States.*, Lambda.*, transient AWS codes and the named errors of lib/errors.ts', () => {
    const known = new Set<string>([...TRANSIENT_AWS_ERRORS, ...LAUNCH_CAPACITY_ERRORS, ...ERROR_NAMES]);
    const used = states.flatMap(({ state }) =>
      [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((r) => r.ErrorEquals),
    );
    const unknown = used.filter((e) => !/^(States|Lambda)\./.test(e) && !known.has(e));

    expect(used.length).toBeGreaterThan(0);
    expect(unknown).toEqual([]);
  });
});

describe('ERROR_NAMES in lib/errors.ts', () => {
  it.each(ERROR_NAMES)('%s is an exported error class whose instances carry that name', (name) => {
    const exported: unknown = (errors as Record<string, unknown>)[name];

    expect(typeof exported).toBe('function');
    const instance: unknown = new (exported as new (message: string) => unknown)('m');
    expect(instance).toBeInstanceOf(Error);
    expect((instance as Error).name).toBe(name);
  });
});

describe('the named errors of lib/errors.ts, seen from the ASL', () => {
  const matched = (kind: 'Retry' | 'Catch') =>
    new Set(states.flatMap(({ state }) => (state[kind] ?? []).flatMap((r) => r.ErrorEquals)));
  const retried = matched('Retry');
  const named = new Set([...retried, ...matched('Catch')]);
  const errorClasses = Object.entries(errors).filter(
    ([, value]) =>
      typeof value === 'function' && (value === BakeError || value.prototype instanceof BakeError),
  );

  it('says for every error class how the state machine treats it, so a new one needs a decision', () => {
    const undecided = errorClasses
      .map(([name]) => name)
      .filter((name) => !Object.hasOwn(ERROR_HANDLING, name));

    expect(errorClasses.length).toBeGreaterThan(10);
    expect(undecided, `add ${undecided.join(', ')} to ERROR_HANDLING in lib/errors.ts`).toEqual([]);
  });

  it('retries by name every error declared retried, and every AWS code it names', () => {
    const declared = Object.entries(ERROR_HANDLING)
      .filter(([, how]) => how === 'retried')
      .map(([name]) => name);
    const missing = [...declared, ...TRANSIENT_AWS_ERRORS, ...LAUNCH_CAPACITY_ERRORS].filter(
      (e) => !retried.has(e),
    );

    expect(declared.length).toBeGreaterThan(0);
    expect(missing, `not retried by any state: ${missing.join(', ')}`).toEqual([]);
  });

  it('names no error declared as left to States.ALL (the state fails, the bake cleans up) or as thrown outside it', () => {
    const unnamed = Object.entries(ERROR_HANDLING)
      .filter(([, how]) => how !== 'retried')
      .map(([name]) => name);

    expect(unnamed.length).toBeGreaterThan(0);
    expect(unnamed.filter((name) => named.has(name))).toEqual([]);
  });
});
