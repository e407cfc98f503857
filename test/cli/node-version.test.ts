import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** package.json's engines: the one statement of the Node versions ami-bake runs on. */
const engines = (JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }).engines;

/** bin/ami-bake.mjs run by this node made to report an older version. */
function cliOnNode(version: string, env: NodeJS.ProcessEnv) {
  const pretend = `Object.defineProperty(process, 'version', { value: '${version}' })`;
  const r = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(pretend)}`, 'bin/ami-bake.mjs', '--help'],
    { encoding: 'utf8', env, timeout: 60_000 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const { AMI_BAKE_IGNORE_NODE: _, ...strictEnv } = process.env;

describe('the Node version ami-bake runs on', () => {
  it('is Node 22 or newer, the AWS SDK’s requirement for its releases from January 2027', () => {
    expect(engines.node).toBe('>=22');
  });

  it('refuses an older Node with one line naming the version required, and exit code 3', () => {
    // Act
    const run = cliOnNode('v20.11.1', strictEnv);

    // Assess
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'ami-bake: Node.js >=22 is required, this is v20.11.1 (set AMI_BAKE_IGNORE_NODE=1 to run anyway)\n',
    );
  });

  it('runs on an older Node when told to', () => {
    // Act
    const run = cliOnNode('v20.11.1', { ...strictEnv, AMI_BAKE_IGNORE_NODE: '1' });

    // Assess
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Usage:\n  ami-bake <command>');
  });

  it('runs on the required version', () => {
    // Act
    const run = cliOnNode('v22.0.0', strictEnv);

    // Assess
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });
});
