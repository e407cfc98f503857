import type { BakeSummary, StageTiming } from '../lib/bakes/status.js';
import { duration, table } from './io.js';

const MARK: Record<StageTiming['outcome'], string> = {
  running: '…',
  succeeded: '✓',
  failed: '✗',
  aborted: '✗',
  'timed-out': '✗',
};

/** One stage as the local CLI prints it: `  ✓ LaunchBuilder               0.07s`. */
export function stageLine(s: StageTiming, now: Date): string {
  const time =
    s.seconds !== undefined
      ? duration(s.seconds)
      : `${duration((now.getTime() - Date.parse(s.enteredAt)) / 1000)} so far`;
  const note = s.outcome === 'aborted' || s.outcome === 'timed-out' ? `  ${s.outcome}` : '';
  return `  ${MARK[s.outcome]} ${s.name.padEnd(26)} ${time.padStart(7)}${note}`.trimEnd();
}

export function headline(s: BakeSummary, now: Date): string {
  const recipe = s.recipe ? ` (${s.recipe})` : '';
  if (s.status === 'RUNNING') {
    const since = s.startedAt
      ? `, started ${duration((now.getTime() - Date.parse(s.startedAt)) / 1000)} ago`
      : '';
    return `Bake ${s.bakeId}${recipe} is running${s.stage ? ` at ${s.stage}` : ''}${since}`;
  }
  const took =
    s.startedAt && s.stoppedAt
      ? ` in ${duration((Date.parse(s.stoppedAt) - Date.parse(s.startedAt)) / 1000)}`
      : '';
  const unannounced = s.announced === false ? ': images kept; Bake Succeeded was not published' : '';
  return `Bake ${s.bakeId}${recipe} ${s.status.toLowerCase().replace('_', ' ')}${took}${unannounced}`;
}

/**
 * What a bake produced, or why it failed and what its cleanup removed. A bake that was not
 * announced shows both: its images exist (nothing was cleaned up), and why no event said so.
 */
export function outcome(s: BakeSummary): string[] {
  const lines: string[] = [];
  const rows = Object.entries(s.images).map(([region, i]) => [
    region,
    i.imageId,
    (i.snapshotIds ?? []).join(', '),
  ]);
  const kept = s.announced === false;
  if (rows.length > 0 && (!s.error || kept)) lines.push('', table(['Region', 'Image', 'Snapshots'], rows));
  // A request with several architectures: each is a bake of its own, with its own status.
  if (s.architectures) {
    lines.push(
      '',
      table(
        ['Architecture', 'Bake (ami-bake status <bake>)'],
        s.architectures.map((a) => [a.architecture, a.bakeId]),
      ),
    );
  }
  if (s.builder) lines.push('', builderLine(s.builder));
  if (s.error) {
    const why = [s.error.error, s.error.cause].filter(Boolean).join(': ');
    const at = s.error.stage ?? s.stage ?? '?';
    lines.push(
      '',
      kept
        ? `Images kept; Bake Succeeded was not published (${at}): ${why}`
        : `${s.status === 'ABORTED' ? 'Stopped' : 'Failed'} at ${at}: ${why}`,
    );
  }
  if (s.cleanup) {
    const c = s.cleanup;
    lines.push(
      `Cleanup terminated ${c.terminatedInstances.length} instance(s), deregistered ${c.deregisteredImages.length} image(s), deleted ${c.deletedSnapshots.length} snapshot(s)${c.problems.length ? `; remaining: ${c.problems.join('; ')}` : ''}`,
    );
  }
  return lines;
}

/** `Builder: m6i.large (on-demand) after m7i.large: InsufficientInstanceCapacity`. */
export function builderLine(b: NonNullable<BakeSummary['builder']>): string {
  const market = b.market ? ` (${b.market})` : '';
  const after = (b.attempts ?? []).map(
    (a) => `${a.instanceType}${a.market === 'spot' ? ' spot' : ''}: ${a.error}`,
  );
  return `Builder: ${b.instanceType}${market}${after.length ? ` after ${after.join(', ')}` : ''}`;
}

export function statusReport(s: BakeSummary, now: Date): string {
  return [headline(s, now), ...s.stages.map((x) => stageLine(x, now)), ...outcome(s)].join('\n');
}
