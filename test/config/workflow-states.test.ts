import { describe, expect, expectTypeOf, it } from 'vitest';
import type { copyImage } from '../../functions/copy-image/core.js';
import type { createImage } from '../../functions/create-image/core.js';
import type { finalizeImage } from '../../functions/finalize-image/core.js';
import type { launchBuilder } from '../../functions/launch-builder/core.js';
import type { launchTest } from '../../functions/launch-test/core.js';
import type { publishEvent } from '../../functions/publish-event/core.js';
import type { resolveFromCatalog } from '../../functions/resolve-recipe/catalog.js';
import type { stopBuilder } from '../../functions/stop-builder/core.js';
import type { terminateBuilder } from '../../functions/terminate-builder/core.js';
import type { terminateTest } from '../../functions/terminate-test/core.js';
import type { cleanup } from '../../lib/cleanup/core.js';
import {
  STAGES,
  STATES,
  type StateDescription,
  type StateKind,
  type StateName,
  type StateResults,
} from '../../lib/workflow/states.js';
import { allStates, fakeArnFunctionKey, loadAsl, type State, WAIT_FOR_TASK_TOKEN } from './asl.js';

/**
 * lib/workflow/states.ts describes the workflow for status, events, cancel and the local runner;
 * statemachine/bake.asl.yml is the workflow. They must say the same.
 */

const asl = loadAsl();
const runsCode = allStates(asl).filter((s) => s.state.Type === 'Task' || s.state.Type === 'Map');
const described = Object.entries(STATES) as [StateName, StateDescription][];

/** The state a successful one-architecture bake goes to next: a Choice's default. */
const nextOnPath = (state: State | undefined) => state?.Next ?? state?.Default;

function kindOf(state: State): StateKind {
  if (state.Type === 'Map') return 'map';
  if (String(state.Resource).startsWith('arn:aws:states:::states:startExecution')) return 'child-execution';
  if (state.Resource === WAIT_FOR_TASK_TOKEN) return 'callback-wait';
  return fakeArnFunctionKey(state.Resource) === 'publishEvent' ? 'publish' : 'task';
}

describe('the workflow description (lib/workflow/states.ts)', () => {
  it.each(runsCode.map((s) => [s.name, s] as const))(
    'describes %s with the ResultPath, kind and Map the ASL gives it',
    (name, { state, parent }) => {
      const d: StateDescription | undefined = STATES[name as StateName];

      expect(d, `${name} is not in lib/workflow/states.ts`).toBeDefined();
      expect(d?.resultPath).toBe(state.ResultPath);
      expect(d?.kind).toBe(kindOf(state));
      expect(d?.inside).toBe(parent);
    },
  );

  it('describes no state the ASL lacks', () => {
    const inAsl = new Set(runsCode.map((s) => s.name));

    expect(described.map(([name]) => name).filter((name) => !inAsl.has(name))).toEqual([]);
  });

  it('lists the stages in the order a successful bake runs them', () => {
    const path: string[] = [];
    for (let name: string | undefined = asl.StartAt; name; name = nextOnPath(asl.States[name]))
      path.push(name);

    expect(path.filter((name) => (STAGES as readonly string[]).includes(name))).toEqual([...STAGES]);
  });

  it('marks as failure path exactly the states only a Catch reaches', () => {
    // The Catch targets and every state after them (through the failure end's Choice).
    const caught = new Set(Object.values(asl.States).flatMap((s) => (s.Catch ?? []).map((c) => c.Next)));
    for (const name of caught) {
      const s = asl.States[name];
      for (const next of [s?.Next, s?.Default, ...(s?.Choices ?? []).map((c) => c.Next)])
        if (next) caught.add(next);
    }
    const onPath = new Set<string>();
    for (let name: string | undefined = asl.StartAt; name; name = nextOnPath(asl.States[name]))
      onPath.add(name);
    const failurePath = described.filter(([, d]) => d.failurePath).map(([name]) => name);

    expect(failurePath).toEqual(
      described.map(([name]) => name).filter((name) => caught.has(name) && !onPath.has(name)),
    );
  });

  it('gives each state the result type its code returns', () => {
    type Returned<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

    expectTypeOf<Returned<typeof resolveFromCatalog>>().toExtend<StateResults['ResolveRecipe']>();
    expectTypeOf<Returned<typeof launchBuilder>>().toExtend<StateResults['LaunchBuilder']>();
    expectTypeOf<Returned<typeof stopBuilder>>().toExtend<StateResults['StopBuilder']>();
    expectTypeOf<Returned<typeof createImage>>().toExtend<StateResults['CreateImage']>();
    expectTypeOf<Returned<typeof copyImage>>().toExtend<StateResults['CopyImage']>();
    expectTypeOf<Returned<typeof finalizeImage>>().toExtend<StateResults['FinalizeImage']>();
    expectTypeOf<Returned<typeof terminateBuilder>>().toExtend<StateResults['TerminateBuilder']>();
    expectTypeOf<Returned<typeof launchTest>>().toExtend<StateResults['LaunchTest']>();
    expectTypeOf<Returned<typeof terminateTest>>().toExtend<StateResults['TerminateTest']>();
    expectTypeOf<Returned<typeof cleanup>>().toExtend<StateResults['Cleanup']>();
    expectTypeOf<Returned<typeof publishEvent>>().toExtend<StateResults['PublishBakeFailed']>();
    // The waits' results are answered through SendTaskSuccess (lib/waits/evaluate.ts), untyped there.
  });
});
