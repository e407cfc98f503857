/**
 * The vitest projects (vitest.config.ts), by folder, so that a new test file joins its project
 * without an edit here. bench/tests.ts reads the same table to split a run's time by project.
 *
 * - unit: cores with fakes, no emulator and no child process; runs in threads (the edit loop).
 * - workflow: the real ASL run by the local interpreter with the real handlers.
 * - e2e: anything that starts the emulator or real processes (whole bakes, the fault matrix, the
 *   AWS-behaviour layer in front of a real moto, the CLI, the bootstrap wrapper under bash).
 * - config: the packaged template (osls, cfn-lint, checkov) and the ASL structure.
 */
export interface ProjectFolders {
  /** Folders (ending in /) or single files. */
  folders: string[];
  /** Folders or files inside `folders` that belong to another project. */
  except?: string[];
}

/** The bootstrap wrapper run for real under bash (a few processes per test): not an edit-loop test. */
const REAL_BASH = 'test/unit/bootstrap/linux-wrapper.test.ts';

export const PROJECTS = {
  unit: { folders: ['test/unit/'], except: ['test/unit/aws-behaviour/', REAL_BASH] },
  workflow: { folders: ['test/workflow/'] },
  e2e: { folders: ['test/e2e/', 'test/cli/', 'test/unit/aws-behaviour/', REAL_BASH] },
  config: { folders: ['test/config/'] },
} satisfies Record<string, ProjectFolders>;

export type ProjectName = keyof typeof PROJECTS;

/** The project a test file (path relative to the repository) belongs to. */
export function projectOf(file: string): ProjectName | undefined {
  const path = file.replaceAll('\\', '/');
  for (const [name, p] of Object.entries(PROJECTS) as [ProjectName, ProjectFolders][]) {
    if (p.folders.some((f) => path.startsWith(f)) && !p.except?.some((f) => path.startsWith(f))) return name;
  }
  return undefined;
}

const glob = (f: string) => (f.endsWith('/') ? `${f}**/*.test.ts` : f);
export const include = (p: ProjectFolders) => p.folders.map(glob);
export const exclude = (p: ProjectFolders) => (p.except ?? []).map(glob);
