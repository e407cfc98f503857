import * as z from 'zod';
import { STAGES, STATES, type StateDescription } from '../workflow/states.js';
import type { BakeSummary, StageTiming } from './status.js';

/**
 * A bake's stages on one time axis: what `ami-bake status`, the local bake and the HTML report
 * draw, and what Bake Succeeded / Bake Failed carry (`timeline`). Times are seconds from the
 * bake's start, so the same data draws the same picture wherever it is read.
 */
export const timelineBarSchema = z.object({
  /** The state (stage) name, e.g. WaitForBuilder, CopyImage. */
  stage: z.string(),
  /** What runs side by side: the region of a copy, the architecture of a child bake; '' otherwise. */
  lane: z.string(),
  startSeconds: z.number().nonnegative(),
  /** Absent while the stage runs. */
  endSeconds: z.number().nonnegative().optional(),
  outcome: z.enum(['succeeded', 'failed', 'running', 'aborted']),
});
export type TimelineBar = z.infer<typeof timelineBarSchema>;

export const timelineSchema = z.object({
  startedAt: z.string(),
  /** Seconds from the start to the last end (or to now, for a running bake). */
  totalSeconds: z.number().nonnegative(),
  bars: z.array(timelineBarSchema),
});
export type Timeline = z.infer<typeof timelineSchema>;

/** A stage with wall-clock times, as a history or a state's recorded `at` times give it. */
export interface TimedStage {
  stage: string;
  lane?: string;
  startedAt: string;
  endedAt?: string;
  outcome: TimelineBar['outcome'];
}

/** Stages with ISO times → a timeline from the earliest start; `now` ends a running bake's axis. */
export function timelineOf(stages: TimedStage[], now: Date = new Date()): Timeline | undefined {
  const starts = stages.map((s) => Date.parse(s.startedAt)).filter(Number.isFinite);
  if (starts.length === 0) return undefined;
  const origin = Math.min(...starts);
  const offset = (iso: string) => Math.max(0, (Date.parse(iso) - origin) / 1000);
  const bars = stages
    .filter((s) => Number.isFinite(Date.parse(s.startedAt)))
    .map(
      (s): TimelineBar => ({
        stage: s.stage,
        lane: s.lane ?? '',
        startSeconds: round(offset(s.startedAt)),
        ...(s.endedAt ? { endSeconds: round(Math.max(offset(s.endedAt), offset(s.startedAt))) } : {}),
        outcome: s.outcome,
      }),
    );
  const running = bars.some((b) => b.endSeconds === undefined);
  const ends = bars.map((b) => b.endSeconds ?? b.startSeconds);
  const totalSeconds = round(Math.max(...ends, running ? (now.getTime() - origin) / 1000 : 0));
  return { startedAt: new Date(origin).toISOString(), totalSeconds, bars };
}

const round = (s: number) => Math.round(s * 10) / 10;

const MARKS: Record<TimelineBar['outcome'], string> = {
  succeeded: '█',
  failed: '✗',
  running: '▒',
  aborted: '░',
};

/**
 * The timeline as a text Gantt chart: one row per stage (per lane for stages that run side by
 * side, such as the copies), a bar scaled to `width` columns, and the duration at the right.
 * Plain text with no colour: it reads the same in a terminal, a log and a CI job's output.
 */
export function renderGantt(timeline: Timeline, width = 48): string[] {
  const total = Math.max(timeline.totalSeconds, 0.001);
  const labels = timeline.bars.map((b) => (b.lane ? `${b.stage} ${b.lane}` : b.stage));
  const labelWidth = Math.max(5, ...labels.map((l) => l.length));
  const scale = (s: number) => Math.min(width, Math.round((s / total) * width));
  const rows = timeline.bars.map((bar, i) => {
    // A stage that starts at the very end still gets the last column.
    const from = Math.min(scale(bar.startSeconds), width - 1);
    const end = bar.endSeconds ?? timeline.totalSeconds;
    // Every stage gets at least one column, so a 0.1 s stage is still seen to have happened.
    const to = Math.max(from + 1, scale(end));
    const cells = ' '.repeat(from) + MARKS[bar.outcome].repeat(Math.min(width, to) - from);
    const seconds = bar.endSeconds === undefined ? 'running' : duration(bar.endSeconds - bar.startSeconds);
    const mark = bar.outcome === 'failed' ? '  failed' : bar.outcome === 'aborted' ? '  stopped' : '';
    return `${(labels[i] ?? '').padEnd(labelWidth)} │${cells.padEnd(width)}│ ${seconds}${mark}`;
  });
  const axis = `${''.padEnd(labelWidth)} └${'─'.repeat(width)}┘`;
  const scaleLine = `${''.padEnd(labelWidth)}  0${duration(timeline.totalSeconds).padStart(width)}`;
  return [...rows, axis, scaleLine];
}

/** 0.4s, 12s, 3m05s, 1h02m: short enough for a chart's right edge. */
export function duration(seconds: number): string {
  if (seconds < 10) return `${Math.round(seconds * 10) / 10}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const OUTCOME: Record<StageTiming['outcome'], TimelineBar['outcome']> = {
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  aborted: 'aborted',
  'timed-out': 'failed',
};

/**
 * A bake's timeline from its execution history (`ami-bake status`): its stages in order, a Map
 * stage drawn as its lanes (the copies, one per region) when the history shows them.
 */
export function summaryTimeline(s: BakeSummary, now: Date = new Date()): Timeline | undefined {
  const mapsWithLanes = new Set((s.lanes ?? []).length > 0 ? ['CopyImages'] : []);
  const timed = (t: StageTiming, lane?: string): TimedStage => ({
    stage: t.name,
    ...(lane ? { lane } : {}),
    startedAt: t.enteredAt,
    ...(t.exitedAt ? { endedAt: t.exitedAt } : {}),
    outcome: OUTCOME[t.outcome],
  });
  const stages = s.stages.flatMap((t) =>
    mapsWithLanes.has(t.name) ? (s.lanes ?? []).map((l) => timed(l, l.lane)) : [timed(t)],
  );
  return timelineOf(stages, now);
}

/** What a Map iteration's result may say about which lane it ran in. */
interface Lane {
  at?: string;
  region?: string;
  instanceType?: string;
  architecture?: string;
}

/** The part of a bake's state the times are read from: the context and each stage's result. */
export type TimedState = { context?: { startedAt: string; at: string } } & Record<string, unknown>;

/**
 * A bake's stages with their times, from the completion time each state recorded in its result
 * (lib/workflow/states.ts says where): a stage runs from the previous one's end to its own `at`.
 * A Map's iterations that name a region (the copies) are lanes of their own; a Map a Choice
 * skipped has no result and is no stage. The publish states record no time and are left out.
 */
export function stageSpans(bake: TimedState): TimedStage[] {
  const c = bake.context;
  if (!c) return [];
  const spans: TimedStage[] = [];
  let previous = c.startedAt;
  for (const stage of STAGES) {
    const d: StateDescription = STATES[stage];
    if (stage === 'ResolveRecipe') {
      spans.push({ stage, startedAt: c.startedAt, endedAt: c.at, outcome: 'succeeded' });
      previous = c.at;
      continue;
    }
    if (d.kind === 'publish' || !d.resultPath) continue;
    const result = bake[d.resultPath.slice(2)];
    if (result === undefined) continue;
    if (d.kind === 'map') {
      const items = (Array.isArray(result) ? result : []) as Lane[];
      const done = items.filter((x): x is Lane & { at: string } => typeof x.at === 'string');
      // Nothing to copy (one region): the stage ran, and took no time.
      if (done.length === 0)
        spans.push({ stage, startedAt: previous, endedAt: previous, outcome: 'succeeded' });
      for (const item of done) {
        const lane = item.region ?? item.instanceType ?? item.architecture;
        spans.push({
          stage,
          ...(lane ? { lane } : {}),
          startedAt: previous,
          endedAt: item.at,
          outcome: 'succeeded',
        });
      }
      previous =
        done
          .map((x) => x.at)
          .sort()
          .at(-1) ?? previous;
      continue;
    }
    const at = (result as { at?: unknown }).at;
    if (typeof at !== 'string') continue;
    spans.push({ stage, startedAt: previous, endedAt: at, outcome: 'succeeded' });
    previous = at;
  }
  return spans;
}

/** Seconds per stage (a Map's: to its last iteration), in pipeline order: what the events carry. */
export function stageSeconds(spans: TimedStage[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of spans) {
    const seconds = Math.max(
      0,
      Math.round((Date.parse(s.endedAt ?? s.startedAt) - Date.parse(s.startedAt)) / 10) / 100,
    );
    out[s.stage] = Math.max(out[s.stage] ?? 0, seconds);
  }
  return out;
}

/**
 * A bake's timeline as its events carry it: its own stages, then, for a request with several
 * architectures, one lane per child from its start to its last stage, and for a failed bake the
 * failed stage from the last finished one to `now`.
 */
export function bakeTimeline(
  bake: TimedState & { architectures?: unknown },
  now: Date,
  failedStage?: string,
): Timeline | undefined {
  if (!bake.context) return undefined;
  const spans = stageSpans(bake);
  const children = Array.isArray(bake.architectures) ? (bake.architectures as TimedState[]) : [];
  for (const child of children) {
    const own = stageSpans(child);
    const end = own
      .map((s) => s.endedAt ?? s.startedAt)
      .sort()
      .at(-1);
    const architecture = (child.context as { architecture?: string } | undefined)?.architecture;
    if (child.context && end) {
      spans.push({
        stage: 'BakeArchitectures',
        ...(architecture ? { lane: architecture } : {}),
        startedAt: child.context.startedAt,
        endedAt: end,
        outcome: 'succeeded',
      });
    }
  }
  if (failedStage) {
    const last =
      spans
        .map((s) => s.endedAt ?? s.startedAt)
        .sort()
        .at(-1) ?? now.toISOString();
    spans.push({ stage: failedStage, startedAt: last, endedAt: now.toISOString(), outcome: 'failed' });
  }
  return timelineOf(spans, now);
}
