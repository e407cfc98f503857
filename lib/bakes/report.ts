import { duration, type Timeline, type TimelineBar } from './timeline.js';

/** What a shared bake report shows: the timeline, the images per region and the events. */
export interface BakeReport {
  bakeId: string;
  recipe: string;
  /** SUCCEEDED, FAILED, RUNNING, ... or the local bake's succeeded/failed. */
  status: string;
  timeline?: Timeline;
  images: { region: string; imageId: string; architecture?: string; snapshotIds?: string[] }[];
  failure?: { stage?: string; error: string; cause: string };
  events: { detailType: string; time?: string; detail: unknown }[];
  /** When the report was written (ISO). */
  generatedAt: string;
}

const COLOURS: Record<TimelineBar['outcome'], string> = {
  succeeded: '#2e7d32',
  failed: '#c62828',
  running: '#f9a825',
  aborted: '#757575',
};

/**
 * One self-contained HTML page: inline CSS and SVG, no script, no font or image from elsewhere,
 * so it opens from a file, a chat attachment or a ticket the same way, and shows the same thing
 * in any browser. Every value from the bake is escaped.
 */
export function renderHtmlReport(report: BakeReport): string {
  const title = `ami-bake ${report.bakeId}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem}
.status{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;color:#fff;font-weight:600}
.ok{background:#2e7d32}.bad{background:#c62828}.other{background:#616161}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:20rem}
svg text{font:12px ui-monospace,Menlo,monospace}
.failure{border-left:4px solid #c62828;padding:.4rem .8rem;background:#fdecea}
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p>Recipe <code>${esc(report.recipe)}</code> · <span class="status ${statusClass(report.status)}">${esc(report.status)}</span> · report written ${esc(report.generatedAt)}</p>
${report.failure ? failureSection(report.failure) : ''}
<h2>Timeline</h2>
${report.timeline && report.timeline.bars.length > 0 ? timelineSvg(report.timeline) : '<p>No stage has run yet.</p>'}
<h2>Images</h2>
${imagesTable(report.images)}
<h2>Events</h2>
${eventsList(report.events)}
</body>
</html>
`;
}

function statusClass(status: string): string {
  if (/^succeeded$/i.test(status)) return 'ok';
  if (/^(failed|timed_out|aborted|unannounced)$/i.test(status)) return 'bad';
  return 'other';
}

function failureSection(f: NonNullable<BakeReport['failure']>): string {
  return `<div class="failure" id="failure"><strong>${esc(f.error)}</strong>${f.stage ? ` at <code>${esc(f.stage)}</code>` : ''}<br>${esc(f.cause)}</div>`;
}

/** One row per bar, lanes (regions, architectures) side by side, an axis in seconds below. */
function timelineSvg(t: Timeline): string {
  const labelWidth = 260;
  const chartWidth = 640;
  const row = 22;
  const total = Math.max(t.totalSeconds, 0.001);
  const x = (s: number) => labelWidth + (s / total) * chartWidth;
  const height = t.bars.length * row + 30;
  const bars = t.bars
    .map((b, i) => {
      const y = i * row + 4;
      const end = b.endSeconds ?? t.totalSeconds;
      const w = Math.max(2, x(end) - x(b.startSeconds));
      const label = b.lane ? `${b.stage} ${b.lane}` : b.stage;
      const took = b.endSeconds === undefined ? 'running' : duration(b.endSeconds - b.startSeconds);
      return `<g class="bar" data-stage="${esc(b.stage)}" data-lane="${esc(b.lane)}" data-outcome="${b.outcome}"><text x="0" y="${y + 13}">${esc(label)}</text><rect x="${x(b.startSeconds).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${row - 6}" rx="2" fill="${COLOURS[b.outcome]}"><title>${esc(label)}: ${esc(took)} (${b.outcome})</title></rect><text x="${(x(b.startSeconds) + w + 4).toFixed(1)}" y="${y + 13}" fill="#555">${esc(took)}</text></g>`;
    })
    .join('\n');
  const axisY = t.bars.length * row + 8;
  return `<svg id="timeline" role="img" aria-label="Stage timeline" viewBox="0 0 ${labelWidth + chartWidth + 80} ${height}" width="100%">
${bars}
<line x1="${labelWidth}" y1="${axisY}" x2="${labelWidth + chartWidth}" y2="${axisY}" stroke="#999"/>
<text x="${labelWidth}" y="${axisY + 16}">0</text><text x="${labelWidth + chartWidth}" y="${axisY + 16}" text-anchor="end">${esc(duration(t.totalSeconds))}</text>
</svg>
<p>Started ${esc(t.startedAt)}; ${esc(duration(t.totalSeconds))} in all.</p>`;
}

function imagesTable(images: BakeReport['images']): string {
  if (images.length === 0) return '<p>No image.</p>';
  const withArch = images.some((i) => i.architecture);
  const rows = images
    .map(
      (i) =>
        `<tr>${withArch ? `<td>${esc(i.architecture ?? '')}</td>` : ''}<td>${esc(i.region)}</td><td><code>${esc(i.imageId)}</code></td><td>${(i.snapshotIds ?? []).map((s) => `<code>${esc(s)}</code>`).join(' ')}</td></tr>`,
    )
    .join('\n');
  return `<table id="images"><thead><tr>${withArch ? '<th>Architecture</th>' : ''}<th>Region</th><th>Image</th><th>Snapshots</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

function eventsList(events: BakeReport['events']): string {
  if (events.length === 0) return '<p>No event.</p>';
  return events
    .map(
      (e) =>
        `<details class="event"><summary><strong>${esc(e.detailType)}</strong>${e.time ? ` · ${esc(e.time)}` : ''}</summary><pre>${esc(JSON.stringify(e.detail, null, 2))}</pre></details>`,
    )
    .join('\n');
}

function esc(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
