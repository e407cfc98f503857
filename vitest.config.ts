import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { exclude, include, PROJECTS, type ProjectFolders } from './test/projects.js';
import { LongestFirst } from './test/sequencer.js';

/**
 * Files run at once, across all projects. vitest's default on 2 cores is 1 (cores - 1), which ran
 * the suite file after file although most e2e and config files spend their time waiting on the
 * emulator, on the behaviour layer's clock or on child processes, not on this process's CPU.
 */
const MAX_WORKERS = 4;

function project(name: string, folders: ProjectFolders, test: TestProjectInlineConfiguration['test']) {
  return {
    extends: true,
    test: {
      name,
      include: include(folders),
      exclude: [...configDefaults.exclude, ...exclude(folders)],
      ...test,
    },
  } satisfies TestProjectInlineConfiguration;
}

export default defineConfig({
  test: {
    maxWorkers: MAX_WORKERS,
    sequence: { sequencer: LongestFirst },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // `npm test` prints the results alone: console output of a passing test is dropped, a failing
    // test's is printed with its failure (test/config/quiet-output.test.ts).
    silent: 'passed-only',
    env: {
      // Powertools writes to its own Console on process.stdout, which vitest does not capture; in
      // dev mode it writes to the global console, which vitest captures like any console output.
      POWERTOOLS_DEV: 'true',
      // package.json requires Node 22, but the tests also run on an older Node (a developer's
      // machine): the SDK's warning about it says nothing about the code under test, and the CLI
      // the tests start is told to run anyway (test/cli/node-version.test.ts checks it refuses).
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AMI_BAKE_IGNORE_NODE: '1',
    },
    // reports/vitest.json is the last `npm test` (it passes --outputFile.json, read by .ci/run and
    // bench/tests.ts); any other run (one file, one project) writes reports/vitest-last.json.
    reporters: ['default', 'json'],
    outputFile: { json: 'reports/vitest-last.json' },
    projects: [
      // Threads, the files of a thread sharing modules: the SDK and zod are imported once per
      // thread instead of once per file (imports were three quarters of the unit time). A unit
      // file must therefore leave shared modules as it found them (restore its own spies).
      project('unit', PROJECTS.unit, { pool: 'threads', isolate: false }),
      project('workflow', PROJECTS.workflow, { pool: 'forks' }),
      // Each file in its own process: e2e files start their own emulator and set AWS_* variables.
      project('e2e', PROJECTS.e2e, { pool: 'forks', globalSetup: ['test/global-setup.ts'] }),
      // One packaged template for the project's files (test/config/global-setup.ts).
      project('config', PROJECTS.config, { pool: 'forks', globalSetup: ['test/config/global-setup.ts'] }),
    ],
  },
});
