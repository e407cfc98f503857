import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { estimateBakeCost } from './cost.js';
import { logger } from './logger.js';

/** The CloudWatch namespace of every ami-bake metric (the dashboard and alarms read it). */
export const METRICS_NAMESPACE = 'AmiBake';

/**
 * Every metric the pipeline emits, with the dimension sets it is emitted under. `[]` is the
 * aggregate (only Powertools' `service` dimension): alarms watch it, as CloudWatch alarms cannot
 * search across dimension values. Dimensions are bounded: recipes come from the packaged catalog,
 * stages from the state machine, kinds and answerers from fixed lists; never a bake id or region
 * list. docs/operations.md explains each one; a test keeps that page, the dashboard and the
 * alarms in step with this list.
 */
export const METRICS = {
  BakesStarted: { unit: MetricUnit.Count, dimensions: [[], ['recipe']] },
  BakesSucceeded: { unit: MetricUnit.Count, dimensions: [[], ['recipe']] },
  BakesFailed: { unit: MetricUnit.Count, dimensions: [[], ['recipe'], ['stage'], ['recipe', 'stage']] },
  BakesSkipped: { unit: MetricUnit.Count, dimensions: [[], ['recipe']] },
  BakeDuration: { unit: MetricUnit.Seconds, dimensions: [[], ['recipe']] },
  StageDuration: { unit: MetricUnit.Seconds, dimensions: [['stage'], ['recipe', 'stage']] },
  WaitDetectionLag: { unit: MetricUnit.Seconds, dimensions: [['answeredBy']] },
  WaitsAnswered: { unit: MetricUnit.Count, dimensions: [['answeredBy']] },
  BakesOverBudget: { unit: MetricUnit.Count, dimensions: [[]] },
  CleanupIncomplete: { unit: MetricUnit.Count, dimensions: [[], ['recipe']] },
  LeftoversRemoved: { unit: MetricUnit.Count, dimensions: [[]] },
  EventsNotPublished: { unit: MetricUnit.Count, dimensions: [[], ['detailType']] },
  BakeCost: { unit: MetricUnit.NoUnit, dimensions: [[], ['recipe']] },
  BakeStateTransitions: { unit: MetricUnit.Count, dimensions: [['recipe']] },
  BakeLambdaGbSeconds: { unit: MetricUnit.NoUnit, dimensions: [['recipe']] },
  BuilderInstanceSeconds: { unit: MetricUnit.Seconds, dimensions: [['recipe']] },
} as const satisfies Record<
  string,
  { unit: (typeof MetricUnit)[keyof typeof MetricUnit]; dimensions: readonly (readonly Dimension[])[] }
>;

export type MetricName = keyof typeof METRICS;
export type Dimension = 'recipe' | 'stage' | 'answeredBy' | 'detailType';
/** Who answered a wait: an EC2 event (resumeWait) or the scheduled reconciler (events missed). */
export type AnsweredBy = 'event' | 'reconciler';

/**
 * Powertools' own warnings through the one logger, without "No application metrics to publish":
 * most invocations emit nothing (a wait registered, a builder stopped), which is not worth a line.
 */
const metricsLogger = {
  debug: (...content: unknown[]) => logger.debug(String(content[0])),
  info: (...content: unknown[]) => logger.info(String(content[0])),
  warn: (...content: unknown[]) => {
    if (!String(content[0]).startsWith('No application metrics to publish')) logger.warn(String(content[0]));
  },
  error: (...content: unknown[]) => logger.error(String(content[0])),
};

/** The one Metrics instance; makeHandler flushes it after every invocation (lib/handler.ts). */
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: 'ami-bake',
  logger: metricsLogger,
});

let redirected: Metrics | undefined;

/**
 * Sends what emit() writes to another Metrics instance until the returned undo is called: unit
 * tests read the EMF a function writes this way (test/unit/emf.ts), as `metrics` itself is
 * disabled wherever POWERTOOLS_DEV is set.
 */
export function redirectMetrics(to: Metrics): () => void {
  redirected = to;
  return () => {
    redirected = undefined;
  };
}

/**
 * Emits `name` once under each of its dimension sets (one EMF record per set, so no set's
 * dimension leaks into another's). Values for dimensions a set does not use are ignored.
 */
export function emit(
  name: MetricName,
  value: number,
  values: Partial<Record<Dimension, string>> = {},
  into: Metrics = redirected ?? metrics,
): void {
  const { unit, dimensions } = METRICS[name];
  for (const set of dimensions) {
    if (set.some((d) => !values[d])) continue;
    const single = into.singleMetric();
    if (set.length > 0) single.addDimensions(Object.fromEntries(set.map((d) => [d, values[d] as string])));
    single.addMetric(name, unit, value);
  }
}

/** What Bake Started / Succeeded / Failed say, as far as metrics read it. */
export interface BakeEventFacts {
  recipe: string;
  /** Seconds per stage, in pipeline order. */
  stages?: Record<string, number>;
  durationSeconds?: number;
  failedStage?: string;
  cleanupProblems?: number;
  usage?: { transitions: number; invocations: number; builderSeconds: number; instanceType?: string };
}

/** The metrics of one published bake event (publishEvent calls this once the event is out). */
export function bakeEventMetrics(
  detailType: string,
  facts: BakeEventFacts,
  into: Metrics = redirected ?? metrics,
): void {
  const recipe = facts.recipe;
  if (detailType === 'Bake Started') emit('BakesStarted', 1, { recipe }, into);
  if (detailType !== 'Bake Succeeded' && detailType !== 'Bake Failed') return;
  if (detailType === 'Bake Succeeded') emit('BakesSucceeded', 1, { recipe }, into);
  else {
    emit('BakesFailed', 1, { recipe, stage: facts.failedStage ?? 'unknown' }, into);
    if ((facts.cleanupProblems ?? 0) > 0) emit('CleanupIncomplete', 1, { recipe }, into);
  }
  if (facts.durationSeconds !== undefined) emit('BakeDuration', facts.durationSeconds, { recipe }, into);
  for (const [stage, seconds] of Object.entries(facts.stages ?? {})) {
    emit('StageDuration', seconds, { recipe, stage }, into);
  }
  if (facts.usage) {
    const cost = estimateBakeCost(facts.usage);
    emit('BakeCost', cost.usd, { recipe }, into);
    emit('BakeStateTransitions', cost.transitions, { recipe }, into);
    emit('BakeLambdaGbSeconds', cost.lambdaGbSeconds, { recipe }, into);
    emit('BuilderInstanceSeconds', cost.builderSeconds, { recipe }, into);
  }
}

/** Counts a start that found images with the same content already in every target region. */
export function countStart(result: { status: string; recipe?: string }): void {
  if (result.status === 'skipped' && result.recipe) emit('BakesSkipped', 1, { recipe: result.recipe });
}
