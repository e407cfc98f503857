/**
 * Target 8: the test suite. Times `npm run test:unit` (the edit loop) and reports the last
 * `npm test` from reports/vitest.json (only `npm test` writes that file; other vitest runs write
 * reports/vitest-last.json) rather than running the whole suite inside the bench: it takes minutes
 * and the machine is shared. BENCH_TESTS_FULL=1 runs `npm test` here first and times it whole.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PROJECTS, type ProjectName, projectOf } from '../test/projects.js';
import { median, type Section } from './section.js';

const UNIT_GOAL_S = 15;
const SUITE_GOAL_S = 120;

interface Report {
  startTime: number;
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; startTime: number; endTime: number; status: string }[];
}

function wallSeconds(command: string, args: string[]): { seconds: number; ok: boolean } {
  const t0 = performance.now();
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return { seconds: (performance.now() - t0) / 1000, ok: r.status === 0 };
}

function testFiles(dir = 'test'): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(dir, f));
}

interface ProjectTimes {
  name: ProjectName;
  files: number;
  /** First file start to last file end. */
  span: number;
  /** Sum of the files' own durations (they overlap when files run in parallel). */
  fileSeconds: number;
  slowest: string;
}

/** The last `npm test`: its vitest wall time and each project's share, from the JSON report. */
function lastFullRun(file = 'reports/vitest.json') {
  if (!existsSync(file)) return undefined;
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  // Paths from the root the run had (a CI clone elsewhere too): from its test/ folder on.
  const fromTest = (name: string) => {
    const at = name.lastIndexOf('/test/');
    return at >= 0 ? name.slice(at + 1) : relative(process.cwd(), name);
  };
  const results = report.testResults.map((r) => ({ ...r, name: fromTest(r.name) }));
  const end = Math.max(...results.map((r) => r.endTime));
  const projects: ProjectTimes[] = (Object.keys(PROJECTS) as ProjectName[]).map((name) => {
    const mine = results.filter((r) => projectOf(r.name) === name);
    const slowest = [...mine].sort((a, b) => b.endTime - b.startTime - (a.endTime - a.startTime))[0];
    return {
      name,
      files: mine.length,
      span: mine.length
        ? (Math.max(...mine.map((r) => r.endTime)) - Math.min(...mine.map((r) => r.startTime))) / 1000
        : 0,
      fileSeconds: mine.reduce((s, r) => s + (r.endTime - r.startTime) / 1000, 0),
      slowest: slowest
        ? `${slowest.name} ${((slowest.endTime - slowest.startTime) / 1000).toFixed(0)} s`
        : '',
    };
  });
  return {
    at: new Date(statSync(file).mtimeMs).toISOString(),
    vitestSeconds: (end - report.startTime) / 1000,
    files: results.length,
    filesOnDisk: testFiles().length,
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    projects,
  };
}

export const testsSection: Section = {
  name: 'tests',
  async run({ runs, quick }) {
    let fullRun: { seconds: number; ok: boolean } | undefined;
    if (process.env.BENCH_TESTS_FULL === '1') fullRun = wallSeconds('npm', ['test']);
    const last = lastFullRun();
    const unit = Array.from({ length: quick ? 1 : Math.min(runs, 3) }, () =>
      wallSeconds('npm', ['run', 'test:unit']),
    );
    const unitSeconds = median(unit.map((u) => u.seconds));
    const unitOk = unit.every((u) => u.ok);
    const complete = last !== undefined && last.files >= last.filesOnDisk;
    const suiteSeconds = fullRun?.seconds ?? last?.vitestSeconds;
    const suiteFigure =
      suiteSeconds === undefined
        ? 'no `npm test` recorded in reports/vitest.json: run `npm test`'
        : fullRun
          ? `${fullRun.seconds.toFixed(0)} s, whole \`npm test\` (typecheck, lint, vitest)${fullRun.ok ? '' : ', failed'}`
          : `${suiteSeconds.toFixed(0)} s of vitest in the last \`npm test\` (${last?.at}; typecheck and lint before it not included)${complete ? '' : `, partial: ${last?.files} of ${last?.filesOnDisk} files`}`;
    return {
      title: 'Test suite',
      targets: [
        {
          name: '8. Tests: unit project',
          goal: `\`npm run test:unit\` ≤ ${UNIT_GOAL_S} s`,
          figure: `${unitSeconds.toFixed(1)} s wall (median of ${unit.length})${unitOk ? '' : ', with failures'}`,
          met: unitSeconds <= UNIT_GOAL_S,
          reproduce: 'npm run bench -- --only tests',
        },
        {
          name: '8. Tests: whole suite',
          goal: `\`npm test\` ≤ ${SUITE_GOAL_S} s on 2 cores`,
          figure: suiteFigure,
          met:
            suiteSeconds === undefined || (!fullRun && !complete) ? undefined : suiteSeconds <= SUITE_GOAL_S,
          reproduce:
            'npm test, then npm run bench -- --only tests (or BENCH_TESTS_FULL=1 npm run bench -- --only tests)',
        },
      ],
      markdown: `\`npm run test:unit\` is the edit loop: the unit project (cores with fakes; no emulator, no child
process) in worker threads whose files share modules, with a tenth of the fuzz inputs
(FUZZ_RUNS_SCALE=0.1; \`npm test\` runs all of them). \`npm test\` runs \`tsc --noEmit\` and \`biome check\` as steps, then every
vitest project (vitest.config.ts, folders in test/projects.ts) in one run, up to four files at a time:
most e2e and config files wait on the emulator, the behaviour layer's clock or child processes;
the longest files start first (test/sequencer.ts).
In local runs the SDK's retry backoff runs on the behaviour layer's clock (lib/aws/retry.ts), as the
ASL's retries already did: a stage throttled until it gives up no longer sleeps in real time.

${
  last
    ? `Last \`npm test\` (${last.at}): ${last.files} files, ${last.passed} passed, ${last.failed} failed, vitest ${last.vitestSeconds.toFixed(0)} s.

| Project | Files | Span (s) | Sum of file times (s) | Slowest file |
| --- | ---: | ---: | ---: | --- |
${last.projects.map((p) => `| ${p.name} | ${p.files} | ${p.span.toFixed(0)} | ${p.fileSeconds.toFixed(0)} | ${p.slowest} |`).join('\n')}`
    : 'No `npm test` recorded yet (reports/vitest.json).'
}

File times are vitest's per-file start and end (collection and import excluded).`,
    };
  },
};
