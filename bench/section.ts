/**
 * One part of the benchmark report (docs/performance.md). Each part measures its own targets of
 * issue 8 and says for each whether it was met, with the figure and the command that reproduces
 * it. `npm run bench` runs every registered section (bench/sections.ts) and writes the report.
 */
import { loadRecipeFile } from '../lib/recipe/load.js';
import type { ResolvedRecipe } from '../lib/state.js';
import { ensureEmulator, type RunningEmulator, startEmulator } from '../local/emulator.js';

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

/**
 * A fresh emulator for one section, with the environment local bakes need (loopback endpoint,
 * throwaway credentials); stopped when `fn` ends, however it ends.
 */
export async function withEmulator<T>(fn: (emulator: RunningEmulator) => Promise<T>): Promise<T> {
  await ensureEmulator();
  const emulator = await startEmulator();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  });
  try {
    return await fn(emulator);
  } finally {
    await emulator.stop();
  }
}

/** recipes/example.yml, the recipe every section bakes (three regions). */
export async function exampleRecipe(): Promise<ResolvedRecipe> {
  const loaded = await loadRecipeFile('recipes/example.yml');
  if (!loaded.ok) throw new Error(`recipes/example.yml is invalid: ${JSON.stringify(loaded.problems)}`);
  return loaded.recipe;
}
