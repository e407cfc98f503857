import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type BakeReport, renderHtmlReport } from '../lib/bakes/report.js';
import { renderGantt, type Timeline } from '../lib/bakes/timeline.js';
import { UsageError } from './errors.js';

/** The `--html <file>` option of `status` and `bake --local`. */
export const HTML_OPTION = { html: { type: 'string' } } as const;
export const HTML_HELP = `  --html <file>                  also write the bake as one self-contained HTML page (timeline,
                                 images per region, events) to share in a review`;

/** The timeline block of a report: a heading and the Gantt chart, or nothing without stages. */
export function timelineBlock(timeline: Timeline | undefined): string[] {
  if (!timeline || timeline.bars.length === 0) return [];
  return ['', 'Timeline:', ...renderGantt(timeline).map((l) => `  ${l}`)];
}

/** Writes the HTML report; a path that cannot be written is the user's to fix (exit 2). */
export function writeHtmlReport(file: string, report: BakeReport): string {
  const path = resolve(file);
  try {
    writeFileSync(path, renderHtmlReport(report));
  } catch (error) {
    throw new UsageError(`--html: cannot write ${path}: ${(error as Error).message}`);
  }
  return path;
}
