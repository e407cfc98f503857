import type * as z from 'zod';
import type {
  BakeContext,
  builderSchema,
  CleanupReport,
  copySchema,
  Distributed,
  finalizedSchema,
  imageReadySchema,
  imageRefSchema,
  ResolvedRecipe,
} from '../state.js';

/**
 * The states of statemachine/bake.asl.yml that run code, and where each puts its result. One
 * description read by the Bake events (functions/publish-event), `ami-bake status`
 * (lib/bakes/status.ts), cancel (lib/bakes/cancel.ts) and the local runner; test/config/
 * workflow-states.test.ts checks it against the ASL both ways, and the workflow tests type their
 * stand-in handlers with {@link StateResults}.
 */

/**
 * `task`: one Lambda of the same name; `callback-wait`: registerWait with a task token, answered
 * by resumeWait or reconcileWaits; `map`: one iteration per item (target region, architecture);
 * `publish`: publishEvent; `child-execution`: an execution of this state machine, waited for.
 */
export type StateKind = 'task' | 'callback-wait' | 'map' | 'publish' | 'child-execution';

/** The result type of each described state: what its Lambda returns or its waiter answers. */
export interface StateResults {
  /** No ResultPath: the result is the whole state, the execution input plus these. */
  ResolveRecipe: { bakeId: string; recipeName?: string; recipe: ResolvedRecipe; context: BakeContext };
  PublishBakeStarted: Published;
  /** The builder, with the type and market it runs on and the capacity refusals before it. */
  LaunchBuilder: z.infer<typeof builderSchema>;
  /** The bootstrap's outcome; `instanceState` says the builder was seen stopped (StopBuilder skips its look). */
  WaitForBuilder: { outcome: 'success'; exitCode: number; instanceState?: string; at: string };
  StopBuilder: { at: string };
  CreateImage: z.infer<typeof imageRefSchema>;
  /** The region too, though only `imageId` and `snapshotIds` are read: $.image holds the region. */
  WaitForImage: z.infer<typeof imageReadySchema> & { region?: string };
  /** The outputs of the iterations: each one's TerminateTest result, one per test instance type. */
  TestImage: TestRecord[];
  LaunchTest: { instanceId: string; instanceType: string; region: string; at: string };
  /** The test script's outcome, as the wait answers it for an instance tagged as a test instance. */
  WaitForTest: { outcome: 'success'; exitCode: number; logTail?: string; at: string };
  TerminateTest: TestRecord;
  /** The outputs of the iterations: each one's WaitForCopy result. */
  CopyImages: z.infer<typeof copySchema>[];
  CopyImage: z.infer<typeof imageRefSchema>;
  WaitForCopy: z.infer<typeof copySchema>;
  FinalizeImage: z.infer<typeof finalizedSchema>;
  /** spotRequestIds: a Spot bake's requests, cancelled first (builder.spot). */
  TerminateBuilder: { instanceIds: string[]; spotRequestIds?: string[]; at: string };
  /** Each child's final state (a whole one-architecture bake), in the order of context.architectures. */
  BakeArchitectures: ChildState[];
  /** One child's final state: startExecution.sync:2's Output (OutputPath). */
  BakeArchitecture: ChildState;
  /** Where the recipe's parameter and launch templates now point (functions/distribute-image). */
  DistributeImage: Distributed;
  PublishBakeSucceeded: Published;
  Cleanup: CleanupReport;
  PublishBakeFailed: Published;
}

/** The final state of a child execution of a group: one architecture's bake (lib/workflow/group.ts). */
export interface ChildState {
  bakeId: string;
  architecture?: string;
  context?: BakeContext;
  image?: z.infer<typeof imageRefSchema>;
  imageReady?: z.infer<typeof imageReadySchema>;
  copies?: z.infer<typeof copySchema>[];
  finalized?: z.infer<typeof finalizedSchema>;
}

/** One passed test instance: what Bake Succeeded reports (lib/events.ts, `tests`). */
export interface TestRecord {
  instanceType: string;
  instanceId: string;
  outcome: 'passed';
  exitCode: number;
  logTail?: string;
  /** From the launch to the script's result: what the image saves over bootstrapping at launch. */
  secondsToDone: number;
  at: string;
}

/** What publishEvent answers. */
export interface Published {
  detailType: string;
  eventId: string | undefined;
}

export type StateName = keyof StateResults;

export interface StateDescription {
  kind: StateKind;
  /**
   * The state's ResultPath, as written in the ASL: a `$.key`, null (the result is dropped), or
   * absent (the default `$`: the result becomes the state).
   */
  resultPath?: `$.${string}` | null;
  /** The Map state this one runs inside, once per target region or architecture. */
  inside?: 'CopyImages' | 'BakeArchitectures' | 'TestImage';
  /** Runs only in a group's request (several architectures): not a stage of a one-architecture bake. */
  group?: true;
  /**
   * The resource the result names by id: cleanup removes it even before tag lookups show it, so a
   * cancel outside the execution passes it on.
   */
  names?: 'instance' | 'image';
  /** Part of the bake's failure path: a bake there ends on its own (cancel leaves it alone). */
  failurePath?: true;
  /**
   * Works in every target region, not only the build region: a failure's cause names the region
   * (the Bake Failed event reads it from there).
   */
  everyRegion?: true;
}

/** In the order a successful bake runs them (Cleanup and PublishBakeFailed only after a failure). */
export const STATES = {
  ResolveRecipe: { kind: 'task' },
  PublishBakeStarted: { kind: 'publish', resultPath: null },
  LaunchBuilder: { kind: 'task', resultPath: '$.builder', names: 'instance' },
  WaitForBuilder: { kind: 'callback-wait', resultPath: '$.bootstrap' },
  StopBuilder: { kind: 'task', resultPath: '$.stopped' },
  CreateImage: { kind: 'task', resultPath: '$.image', names: 'image' },
  WaitForImage: { kind: 'callback-wait', resultPath: '$.imageReady' },
  TestImage: { kind: 'map', resultPath: '$.tests' },
  LaunchTest: { kind: 'task', resultPath: '$.instance', inside: 'TestImage', names: 'instance' },
  WaitForTest: { kind: 'callback-wait', resultPath: '$.outcome', inside: 'TestImage' },
  TerminateTest: { kind: 'task', inside: 'TestImage' },
  CopyImages: { kind: 'map', resultPath: '$.copies', everyRegion: true },
  CopyImage: { kind: 'task', resultPath: '$.copy', inside: 'CopyImages', names: 'image' },
  WaitForCopy: { kind: 'callback-wait', inside: 'CopyImages' },
  FinalizeImage: { kind: 'task', resultPath: '$.finalized', everyRegion: true },
  TerminateBuilder: { kind: 'task', resultPath: '$.terminated' },
  BakeArchitectures: { kind: 'map', resultPath: '$.architectures', group: true },
  BakeArchitecture: { kind: 'child-execution', inside: 'BakeArchitectures', group: true },
  DistributeImage: { kind: 'task', resultPath: '$.distributed', everyRegion: true },
  PublishBakeSucceeded: { kind: 'publish', resultPath: '$.published' },
  Cleanup: { kind: 'task', resultPath: '$.cleanup', failurePath: true },
  PublishBakeFailed: { kind: 'publish', resultPath: '$.published', failurePath: true },
} as const satisfies Record<StateName, StateDescription>;

type Described = typeof STATES;

/** The key a state's result is kept under in the execution's state (`$.builder` → `builder`). */
export type ResultKey<S extends StateName> = Described[S] extends { resultPath: `$.${infer K}` } ? K : never;

/** The states whose result is kept under a key of the state, with that key. */
export type KeyedState = {
  [S in StateName]: ResultKey<S> extends never ? never : S;
}[StateName];

export function resultKey<S extends KeyedState>(state: S): ResultKey<S> {
  const path: string = STATES[state].resultPath;
  return path.slice(2) as ResultKey<S>;
}

/** The execution's state as far as the described results go: each under its key, when present. */
export type BakeResults = {
  [S in KeyedState as ResultKey<S>]?: StateResults[S];
};

const stateNames = Object.keys(STATES) as StateName[];

/** The states of the main path, in order, that are stages of a bake (not inside the Map). */
export const STAGES: readonly StateName[] = stateNames.filter((s) => {
  const d: StateDescription = STATES[s];
  return !d.inside && !d.failurePath && !d.group;
});

/** The description of a state named at run time (in a history, a failure); undefined if none. */
export const descriptionOf = (state: string): StateDescription | undefined =>
  Object.hasOwn(STATES, state) ? STATES[state as StateName] : undefined;

export const isFailurePath = (state: string): boolean => descriptionOf(state)?.failurePath === true;
