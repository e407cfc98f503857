/**
 * One part of the benchmark report (docs/performance.md). Each part measures its own targets of
 * issue 8 and says for each whether it was met, with the figure and the command that reproduces
 * it. `npm run bench` runs every registered section (bench/sections.ts) and writes the report.
 */
export interface Target {
  /** The target number (1-8) and a short name, e.g. "3. Lambda bundles: zip size". */
  name: string;
  /** The goal as the issue states it, e.g. "every zip ≤ 600 KiB". */
  goal: string;
  /** What was measured this run, e.g. "largest zip 412 KiB (api)". */
  figure: string;
  /** undefined: not measurable on this machine (the figure says why). */
  met: boolean | undefined;
  /** The command that reproduces the figure, e.g. "npm run bench -- --only bundles". */
  reproduce: string;
}

export interface SectionResult {
  title: string;
  targets: Target[];
  /** The section's body in Markdown (tables, how it was measured, what was tried where missed). */
  markdown: string;
}

export interface BenchOptions {
  /** Runs per measurement; figures are medians. */
  runs: number;
  /** Set when the caller wants a quick smoke run (CI, tests): fewer iterations, smaller scale. */
  quick: boolean;
}

export interface Section {
  /** The `--only` name, e.g. "bundles". */
  name: string;
  run(options: BenchOptions): Promise<SectionResult>;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
export const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
