import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Longest files first, across projects, so that the last file to finish does not start late.
 * vitest's own order runs projects by name (config, e2e, unit, workflow) and, without a cache
 * (CI's clean clone), larger files first: the fault matrix's parts are three-line files, so they
 * started last and the run waited on them alone.
 */
const FIRST = [/\/test\/e2e\/fault-matrix-[^/]*\.test\.ts$/];
const PROJECT_RANK: Record<string, number> = { e2e: 1, workflow: 1, config: 2, unit: 3 };

function rank(spec: TestSpecification): number {
  if (FIRST.some((re) => re.test(spec.moduleId))) return 0;
  return PROJECT_RANK[spec.project.name] ?? 2;
}

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Array.prototype.sort is stable: vitest's order (cached durations) holds within a rank.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
