import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  type EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  formatResultTag,
  inspectUserData,
  LOG_TAIL_TAG_KEY,
  RESULT_TAG_KEY,
  sanitizeLogTail,
} from '../lib/bootstrap/wrapper.js';

export type BuilderBehaviour = 'succeed' | 'fail' | 'hang';

export interface PlayedBootstrap {
  outcome: 'success' | 'failure' | 'none';
  exitCode?: number;
  format?: string;
  checks: string[];
}

/**
 * No instance really boots in the emulator, so the runner plays the builder: it reads the user
 * data back from EC2, checks it is our wrapper (and `bash -n` for Linux), then tags and stops the
 * instance exactly as the wrapper would. A syntax error in the user's script fails the bake here,
 * as it would on a real builder.
 */
export async function playBuilder(
  ec2: EC2Client,
  instanceId: string,
  behaviour: BuilderBehaviour,
): Promise<PlayedBootstrap> {
  const { UserData } = await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }),
  );
  const userData = Buffer.from(UserData?.Value ?? '', 'base64').toString('utf8');
  const inspected = inspectUserData(userData); // throws if it is not our wrapper
  const checks = [`user data is the ami-bake wrapper (${inspected.platform}, ${inspected.format})`];
  let result: { outcome: 'success' | 'failure'; exitCode: number; log: string } = {
    outcome: 'success',
    exitCode: 0,
    log: '',
  };
  if (inspected.platform === 'linux') {
    const syntax = bashSyntax(
      inspected.format === 'shell'
        ? { wrapper: userData, script: inspected.userScript }
        : { wrapper: userData },
    );
    checks.push(...syntax.checks);
    if (syntax.error) result = { outcome: 'failure', exitCode: 2, log: syntax.error };
  }
  if (behaviour === 'hang') return { outcome: 'none', format: inspected.format, checks };
  if (behaviour === 'fail' && result.outcome === 'success') {
    result = {
      outcome: 'failure',
      exitCode: 1,
      log: 'simulated failure (--simulate-bootstrap-failure): the script exited 1',
    };
  }
  await ec2.send(
    new CreateTagsCommand({
      Resources: [instanceId],
      Tags: [
        { Key: RESULT_TAG_KEY, Value: formatResultTag(result) },
        ...(result.log ? [{ Key: LOG_TAIL_TAG_KEY, Value: sanitizeLogTail(result.log) }] : []),
      ],
    }),
  );
  await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
  return { outcome: result.outcome, exitCode: result.exitCode, format: inspected.format, checks };
}

function bashSyntax(files: { wrapper: string; script?: string }): { checks: string[]; error?: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ami-bake-userdata-'));
  const checks: string[] = [];
  try {
    for (const [name, text] of Object.entries(files)) {
      if (text === undefined) continue;
      // Only shell scripts: a user script with another interpreter (#!/usr/bin/python3) is not bash.
      if (name === 'script' && /^#!/.test(text) && !/^#!.*\b(ba)?sh\b/.test(text)) continue;
      const path = join(dir, `${name}.sh`);
      writeFileSync(path, text);
      const r = spawnSync('bash', ['-n', path], { encoding: 'utf8' });
      if (r.status !== 0)
        return { checks, error: `bash -n on the ${name}: ${r.stderr.replaceAll(path, name).trim()}` };
      checks.push(`bash -n passes on the ${name === 'script' ? "recipe's script" : 'wrapper'}`);
    }
    return { checks };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
