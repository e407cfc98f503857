import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { REPO_ROOT } from './asl.js';

/** The stage the config tests package: names in the template read `ami-bake-ci-…`. */
export const PACKAGE_STAGE = 'ci';

/**
 * Packages the real serverless.yml (offline, no AWS credentials) into a new temporary folder and
 * returns the folder and the CloudFormation template it holds: what would be deployed, not what
 * the YAML seems to say. About 5 s on an idle machine; minutes on a shared, busy one, so the config
 * project packages once (test/config/global-setup.ts) and its files read `packagedTemplate()`.
 */
export async function packageTemplate<T = unknown>(
  stage = PACKAGE_STAGE,
): Promise<{ dir: string; template: T }> {
  const dir = mkdtempSync(join(tmpdir(), 'ami-bake-package-'));
  const serverless = join(REPO_ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
  // Empty credentials: packaging must not need an AWS account.
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
  };
  await promisify(execFile)(process.execPath, [serverless, 'package', '--stage', stage, '--package', dir], {
    cwd: REPO_ROOT,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
  return { dir, template: template as T };
}

/**
 * The template the config project packaged once, in its global setup (test/config/global-setup.ts):
 * tests read it, and must not remove its folder.
 */
export function packagedTemplate<T = unknown>(): { dir: string; template: T } {
  const dir = inject('packagedTemplateDir');
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
  return { dir, template: template as T };
}
