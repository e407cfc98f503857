import { type BakeSummary, fetchBake, summarizeBake } from '../../lib/bakes/status.js';
import { summaryTimeline } from '../../lib/bakes/timeline.js';
import { COMMON_HELP, COMMON_OPTIONS, onePositional, parse, showHelp } from '../args.js';
import { EXIT, UsageError } from '../errors.js';
import { statusReport } from '../format.js';
import { type Io, printJson } from '../io.js';
import { HTML_HELP, HTML_OPTION, timelineBlock, writeHtmlReport } from '../report.js';
import { bakeTarget } from '../stack.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const help = `Show a bake on the deployed stack: its status, the stage it is at, how long each stage took
(with a timeline chart, the copies side by side), and its images per region, or the stage, error
and cause it failed with.

Usage:
  ami-bake status <bakeId | executionArn> [options]

Options:
${HTML_HELP}
${TARGET_HELP}
${COMMON_HELP}

Exit codes: 0 shown (whatever the bake's own status; use watch to wait for the outcome),
2 bad input or no such bake, 3 AWS or configuration error.

Examples:
  ami-bake status example-web_0f3a9c1d2e4b_202611260524337a1c
  ami-bake status example-web_0f3a9c1d2e4b_202611260524337a1c --stage prod --json | jq .images
  ami-bake status example-web_0f3a9c1d2e4b_202611260524337a1c --html bake.html`;

const OPTIONS = { ...COMMON_OPTIONS, ...TARGET_OPTIONS, ...HTML_OPTION } as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) return showHelp(io, help);
  const id = onePositional(positionals, 'a bake id');
  const bake = await bakeTarget(id, values, io, values.json ? () => {} : io.err);
  const fetched = await fetchBake(bake.sfn, bake.stateMachineArn, bake.bakeId);
  if (!fetched) throw unknownBake(bake);
  const status = summarizeBake(fetched);
  const timeline = summaryTimeline(status, io.now());
  if (values.json) printJson(io, { ...status, ...(timeline ? { timeline } : {}) });
  else io.out([statusReport(status, io.now()), ...timelineBlock(timeline)].join('\n'));
  if (values.html) {
    const path = writeHtmlReport(values.html, htmlReport(status, timeline, io.now()));
    if (!values.json) io.err(`HTML report: ${path}`);
  }
  return EXIT.ok;
}

function htmlReport(s: BakeSummary, timeline: ReturnType<typeof summaryTimeline>, now: Date) {
  return {
    bakeId: s.bakeId,
    recipe: s.recipe,
    status: s.status,
    timeline,
    images: Object.entries(s.images).map(([region, i]) => ({ region, ...i })),
    ...(s.error ? { failure: s.error } : {}),
    // The history says which events the bake published and when; their content is in EventBridge.
    events: s.stages
      .filter((t) => t.name.startsWith('Publish') && t.outcome === 'succeeded')
      .map((t) => ({
        detailType: t.name.replace(/^Publish/, '').replace(/([a-z])([A-Z])/g, '$1 $2'),
        time: t.exitedAt,
        detail: { state: t.name },
      })),
    generatedAt: now.toISOString(),
  };
}

/** A typo or the wrong stack: bad input, not an AWS failure. */
export function unknownBake(bake: { bakeId: string; stateMachineArn: string }): UsageError {
  return new UsageError(
    `no bake ${bake.bakeId} in ${bake.stateMachineArn}; ami-bake list shows the recent ones`,
  );
}
