import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type EC2Client,
  type Instance,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CONSOLE_LOG_PREFIX, CONSOLE_RESULT_PREFIX } from '../lib/bootstrap/protocol.js';
import {
  formatResultTag,
  inspectUserData,
  LOG_TAIL_TAG_KEY,
  RESULT_TAG_KEY,
  sanitizeLogTail,
} from '../lib/bootstrap/wrapper.js';
import { subnetEgress } from '../lib/network/egress.js';

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
export interface PlayOptions {
  /** Local milliseconds the bootstrap takes once the instance runs (the profile's clock applied). */
  bootstrapMs?: number;
  /** The serial console (the AWS-behaviour layer serves it to GetConsoleOutput). */
  writeConsole?: (text: string) => void;
  /** True once nobody waits for this builder any more (budget spent, bake failed). */
  cancelled?: () => boolean;
  /** `test`: a test instance running the recipe's test script through the same wrapper. */
  role?: 'builder' | 'test';
}

export async function playBuilder(
  ec2: EC2Client,
  instanceId: string,
  behaviour: BuilderBehaviour,
  options: PlayOptions = {},
): Promise<PlayedBootstrap> {
  // A real builder runs its user data only once it is running; the layer models the boot.
  const instance = await untilRunning(ec2, instanceId, options.cancelled);
  if (!instance) return { outcome: 'none', checks: [] };
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
    const syntax = await bashSyntax(
      inspected.format === 'shell'
        ? { wrapper: userData, script: inspected.userScript }
        : { wrapper: userData },
    );
    checks.push(...syntax.checks);
    if (syntax.error) result = { outcome: 'failure', exitCode: 2, log: syntax.error };
  }
  if (behaviour === 'hang') return { outcome: 'none', format: inspected.format, checks };
  // No route out: package mirrors and the EC2 API are unreachable, so the script's downloads
  // fail and the wrapper cannot tag its instance. It still writes the serial console and powers off.
  const network = await subnetEgress(ec2, {
    subnetId: instance.SubnetId,
    associatePublicIp: Boolean(instance.PublicIpAddress),
  });
  const offline = !network.egress;
  if (offline && result.outcome === 'success') {
    result = {
      outcome: 'failure',
      exitCode: 6,
      log: `curl: (6) Could not resolve host: no route to the internet from ${network.subnetId} (${network.reason ?? 'no egress'})`,
    };
  }
  if (behaviour === 'fail' && result.outcome === 'success') {
    result = {
      outcome: 'failure',
      exitCode: 1,
      log:
        options.role === 'test'
          ? 'simulated failure (--simulate-test-failure): the test script exited 1'
          : 'simulated failure (--simulate-bootstrap-failure): the script exited 1',
    };
  }
  if (options.bootstrapMs) await new Promise((r) => setTimeout(r, options.bootstrapMs));
  if (options.cancelled?.()) return { outcome: 'none', format: inspected.format, checks };
  // What the wrapper writes to the serial console before tagging (the pipeline's fallback).
  options.writeConsole?.(
    [
      ...result.log
        .split('\n')
        .filter(Boolean)
        .map((l) => `${CONSOLE_LOG_PREFIX}${l}`),
      `${CONSOLE_RESULT_PREFIX}${JSON.stringify({ outcome: result.outcome, exitCode: result.exitCode })}`,
      '',
    ].join('\n'),
  );
  if (!offline) {
    await ec2.send(
      new CreateTagsCommand({
        Resources: [instanceId],
        Tags: [
          { Key: RESULT_TAG_KEY, Value: formatResultTag(result) },
          ...(result.log ? [{ Key: LOG_TAIL_TAG_KEY, Value: sanitizeLogTail(result.log) }] : []),
        ],
      }),
    );
  }
  await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
  return { outcome: result.outcome, exitCode: result.exitCode, format: inspected.format, checks };
}

/** Waits until EC2 reports the instance running; undefined if it ended first or nobody waits any more. */
async function untilRunning(
  ec2: EC2Client,
  instanceId: string,
  cancelled = () => false,
): Promise<Instance | undefined> {
  for (;;) {
    if (cancelled()) return undefined;
    try {
      const { Reservations = [] } = await ec2.send(
        new DescribeInstancesCommand({ InstanceIds: [instanceId] }),
      );
      const instance = Reservations[0]?.Instances?.[0];
      const state = instance?.State?.Name;
      if (state === 'running') return instance;
      if (state && state !== 'pending') return undefined;
    } catch {
      // A real instance boots whatever the API answers us: a new id unknown for a few seconds
      // (eventual consistency), a throttled or failing describe. Look again.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function bashSyntax(files: {
  wrapper: string;
  script?: string;
}): Promise<{ checks: string[]; error?: string }> {
  const checks: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    if (text === undefined) continue;
    // Only shell scripts: a user script with another interpreter (#!/usr/bin/python3) is not bash.
    if (name === 'script' && /^#!/.test(text) && !/^#!.*\b(ba)?sh\b/.test(text)) continue;
    const stderr = await bashCheck(text);
    if (stderr !== undefined)
      return { checks, error: `bash -n on the ${name}: ${stderr.replaceAll(SCRIPT_PATH, name).trim()}` };
    checks.push(`bash -n passes on the ${name === 'script' ? "recipe's script" : 'wrapper'}`);
  }
  return { checks };
}

const SCRIPT_PATH = '<user data>';

/**
 * `bash -n` on a text: its stderr when the syntax is wrong, else undefined. Asynchronous (a
 * synchronous spawn would stall every other bake of the process) and remembered by text: the
 * bakes of one recipe check the same script.
 */
const verdicts = new Map<string, Promise<string | undefined>>();
function bashCheck(text: string): Promise<string | undefined> {
  let verdict = verdicts.get(text);
  if (!verdict) {
    if (verdicts.size > 256) verdicts.clear();
    verdict = (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ami-bake-userdata-'));
      const path = join(dir, 'user-data.sh');
      try {
        await writeFile(path, text);
        return await new Promise<string | undefined>((resolve) =>
          execFile('bash', ['-n', path], { encoding: 'utf8' }, (error, _out, stderr) =>
            resolve(error ? stderr.replaceAll(path, SCRIPT_PATH) : undefined),
          ),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    verdicts.set(text, verdict);
  }
  return verdict;
}
